import { afterEach, describe, expect, it } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { cedarSyntaxError, evaluatePolicies } from '../../../host/policy/cedar-engine.ts'
import { InvalidPolicyTextError, PolicyService } from '../../../host/policy/policy-service.ts'
import { type DecisionInput, runPolicyRequest, taskQuestion } from '../../../host/policy/run-question.ts'
import type { ClaimSnapshot, Policy } from '../../../zomes-bindings/index.ts'
import { type Mesh, openMesh } from '../conductor/fixtures/mesh-conductors.ts'
import { task } from '../scheduler/fixtures.ts'

const snapshot: ClaimSnapshot = {
  cores: 8,
  ram_bytes: 32 * 1024 ** 3,
  vram_bytes: 0,
  gpu_count: 0,
  models: [],
  loaded_models: [],
  tags: ['trusted'],
  queue_depth: 0,
}
const policy = (id: string, text: string): Policy => ({
  id,
  version: 1,
  text,
  description: '',
  admin_grant: null,
})

function decision(overrides: Partial<DecisionInput> = {}): DecisionInput {
  return {
    action: 'claim',
    subject: 'uhCAkClaimant',
    snapshot,
    run: taskQuestion({ action_hash: 'uhCkkTask', author: 'uhCAkRequester', timestamp: 1, entry: task() }),
    decidedBy: 'uhCAkClaimant',
    ...overrides,
  }
}

describe('Cedar evaluation', () => {
  it('asks of a task what it says: its hash, author, kind, requirements and bounds', () => {
    const entry = task()
    const { kind, requirements, input_bytes, lease_ms, max_attempts, fan_out } = entry
    expect(taskQuestion({ action_hash: 'uhCkkTask', author: 'uhCAkRequester', timestamp: 1, entry })).toEqual(
      {
        id: 'uhCkkTask',
        requester: 'uhCAkRequester',
        ...{ kind, requirements, input_bytes, lease_ms, max_attempts, fan_out },
      },
    )
  })

  it('allows everything while no policy is published', () => {
    expect(evaluatePolicies([], runPolicyRequest(decision()))).toEqual({
      allowed: true,
      policyIds: [],
      reason: 'no policies are published',
    })
  })

  it('decides on the task, the agent and the action, naming the deciding policy', () => {
    const policies = [
      policy('base', 'permit(principal, action, resource);'),
      policy(
        'sha-on-trusted',
        'forbid(principal, action == Action::"run", resource) when { resource.kind == "sha256" } unless { principal.tags.contains("trusted") };',
      ),
    ]
    expect(evaluatePolicies(policies, runPolicyRequest(decision({ action: 'run' })))).toEqual({
      allowed: true,
      policyIds: ['base'],
      reason: 'permitted by base',
    })
    const untrusted = decision({ action: 'run', snapshot: { ...snapshot, tags: [] } })
    expect(evaluatePolicies(policies, runPolicyRequest(untrusted))).toEqual({
      allowed: false,
      policyIds: ['sha-on-trusted'],
      reason: 'forbidden by sha-on-trusted',
    })
    expect(evaluatePolicies(policies, runPolicyRequest({ ...untrusted, action: 'claim' })).allowed).toBe(true)
  })

  it('denies what no statement permits once policies exist, and fails closed on text that does not parse', () => {
    const onlyEcho = policy(
      'echo-only',
      'permit(principal, action, resource) when { resource.kind == "echo" };',
    )
    expect(evaluatePolicies([onlyEcho], runPolicyRequest(decision()))).toMatchObject({
      allowed: false,
      reason: 'no policy permits claim',
    })
    expect(evaluatePolicies([policy('broken', 'permit(')], runPolicyRequest(decision()))).toMatchObject({
      allowed: false,
      policyIds: ['broken'],
      reason: expect.stringMatching(/^policy broken does not parse/),
    })
    // The set is kept parsed between decisions: a changed text (same id) decides from then on, and
    // a broken one in between does not leave the earlier set in force.
    const runs = (text: string) => [policy('gate', text)]
    const allowRun = 'permit(principal, action, resource);'
    const forbidRun = `${allowRun}\nforbid(principal, action == Action::"run", resource);`
    const run = runPolicyRequest(decision({ action: 'run' }))
    expect(evaluatePolicies(runs(allowRun), run).allowed).toBe(true)
    expect(evaluatePolicies(runs(forbidRun), run)).toMatchObject({ allowed: false, policyIds: ['gate'] })
    expect(evaluatePolicies(runs('permit('), run).allowed).toBe(false)
    expect(evaluatePolicies(runs(allowRun), run).allowed).toBe(true)
    expect(cedarSyntaxError('permit(principal, action, resource);')).toBeNull()
    expect(cedarSyntaxError('permit(principal, action, resource) when { x };')).toMatch(/invalid variable: x/)
  })
})

describe('the policy service', () => {
  let mesh: Mesh | null = null
  afterEach(async () => {
    await mesh?.close()
    mesh = null
  })

  it('publishes as the admin with the next version, and refuses text that is not Cedar', async () => {
    mesh = await openMesh(1, { progenitor: 0 })
    const conductor = mesh.conductors[0] as EmbeddedConductor
    const service = new PolicyService({ conductor, cacheMs: 0, logger: silentLogger() })
    await service.publish({ id: 'base', text: 'permit(principal, action, resource);' })
    await service.publish({ id: 'base', text: 'permit(principal, action == Action::"claim", resource);' })
    expect((await service.list()).map((p) => [p.entry.id, p.entry.version])).toEqual([['base', 2]])
    await expect(service.publish({ id: 'bad', text: 'permit(' })).rejects.toThrow(InvalidPolicyTextError)
  })

  it('records a Decision for a denial and for a decision about another agent under a policy, not for its own allowed ones', async () => {
    mesh = await openMesh(2, { progenitor: 0 })
    const [conductor, other] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const me = conductor.agentPubKey
    const service = new PolicyService({ conductor, cacheMs: 0, logger: silentLogger() })
    const subject = other.agentPubKey
    // No policy yet: allowed by default, and the Assignment itself is the record; nothing is written.
    expect((await service.decide(decision({ action: 'assign', subject, decidedBy: me }))).allowed).toBe(true)
    expect(await conductor.callZome('policy_store', 'list_decisions', { subject: null, limit: 10 })).toEqual(
      [],
    )
    await service.publish({
      id: 'no-sha-runs',
      text: 'permit(principal, action, resource);\nforbid(principal, action == Action::"run", resource) when { resource.kind == "sha256" };',
    })
    expect((await service.decide(decision({ subject: me, decidedBy: me }))).allowed).toBe(true)
    expect((await service.decide(decision({ action: 'run', subject: me, decidedBy: me }))).allowed).toBe(
      false,
    )
    // Asked again, the same denial is not recorded twice.
    await service.decide(decision({ action: 'run', subject: me, decidedBy: me }))
    expect((await service.decide(decision({ action: 'assign', subject, decidedBy: me }))).allowed).toBe(true)

    const decisions = await conductor.callZome('policy_store', 'list_decisions', { subject: null, limit: 10 })
    expect(
      decisions.map((d) => [d.entry.action, d.entry.subject, d.entry.allowed, d.entry.policy_ids]),
    ).toEqual([
      ['assign', subject, true, ['no-sha-runs']],
      ['run', me, false, ['no-sha-runs']],
    ])
    expect(decisions[1]!.entry).toMatchObject({
      resource: 'Task::"uhCkkTask"',
      reason: 'forbidden by no-sha-runs',
      context: { kind: 'sha256', requester: 'uhCAkRequester', decided_by: me, model: null },
    })
  })
})
