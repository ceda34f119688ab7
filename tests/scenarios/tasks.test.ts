import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createEmbeddedPeer } from '../../host/conductor/embedded/replication/index.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import { payloadHash } from '../../host/identity/payload-hash.ts'
import { rendezvousOrder } from '../../host/interface/rendezvous.ts'
import {
  isTerminal,
  type SchedulerService,
  type TaskOrder,
  type TaskView,
} from '../../host/scheduler/scheduler-service.ts'
import type { Worker } from '../../host/workers/worker.ts'
import { NO_REQUIREMENTS, type TaskResult } from '../../zomes-bindings/index.ts'
import { authorCell, craftCreate, publishOps } from './forge.ts'
import { BACKENDS, LOOPBACK_LISTEN, type Player, runScenario, scenarioNetwork, waitUntil } from './harness.ts'
import { type RunLog, type SchedulerHost, startSchedulerHost } from './scheduler-hosts.ts'

/** A task order and its input, as `scheduler.submit(...order())` takes them. */
function order(overrides: Partial<TaskOrder> & { input?: unknown } = {}): [TaskOrder, unknown] {
  const { input = { message: 'hi' }, ...rest } = overrides
  return [
    {
      kind: 'echo',
      requirements: NO_REQUIREMENTS,
      lease_ms: 5_000,
      deadline: (Date.now() + 60_000) * 1000,
      max_attempts: 3,
      fan_out: 1,
      ...rest,
    },
    input,
  ]
}

/** Polls an async condition every 50 ms until it holds. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const ended = (scheduler: SchedulerService, hash: string) =>
  until(`task ${hash} to end`, async () => {
    const view = await scheduler.view(hash).catch(() => undefined)
    return view && isTerminal(view.state.status) ? view : undefined
  })

/** Every player holds the task (so its scheduler can see it). */
const holdsTask = (players: Player[], hash: string) =>
  until('the task to reach every peer', async () => {
    const states = await Promise.all(
      players.map((p) => p.port.callZome('resource_mesh', 'get_task_state', hash)),
    )
    return states.every((s) => s !== null) ? true : undefined
  })

async function withHosts<T>(hosts: SchedulerHost[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } finally {
    await Promise.all(hosts.map((h) => h.stop()))
  }
}

describe('tasks on a mesh of peers', { timeout: 90_000 }, () => {
  describe.each(BACKENDS)('on the %s backend', (backend) => {
    it('keeps an attempt past its lease while its answer streams, and gives up a silent one at the lease', async () => {
      await runScenario({ backend }, async (scenario) => {
        const [alice, bob] = await scenario.addPlayers(2)
        await scenario.shareAllAgents()
        const log: RunLog = { runs: [] }
        // Both run for 2.5 s under a 1 s lease: one streams a token every 200 ms, the other says nothing.
        const slow = (kind: string, streams: boolean): Worker => ({
          kind,
          input: z.unknown(),
          output: z.unknown(),
          run: async (_input, ctx) => {
            for (let i = 0; i < 12 && !ctx.signal.aborted; i++) {
              if (streams) ctx.onEvent({ type: 'token', text: `${i} ` })
              await new Promise((resolve) => setTimeout(resolve, 200))
            }
            ctx.signal.throwIfAborted()
            return { output: { ran: kind } }
          },
        })
        const hosts = [
          await startSchedulerHost(alice!, { name: 'alice', workers: false, log }),
          await startSchedulerHost(bob!, {
            name: 'bob',
            log,
            extraWorkers: [slow('slow.streams', true), slow('slow.silent', false)],
          }),
        ]
        await withHosts(hosts, async () => {
          await scenario.dhtSync([alice!, bob!], 'agent_registry')
          const requester = hosts[0]!.scheduler
          const streamed = await requester.submit(
            ...order({ kind: 'slow.streams', input: {}, lease_ms: 1_000, max_attempts: 2 }),
          )
          const done = await ended(requester, streamed.action_hash)
          expect(done.state.status).toBe('done')
          expect(done.state.assignments).toHaveLength(1)
          expect(done.payloads.outputs[done.state.results[0]!.action_hash]).toEqual({ ran: 'slow.streams' })
          const silent = await requester.submit(
            ...order({ kind: 'slow.silent', input: {}, lease_ms: 1_000, max_attempts: 1 }),
          )
          const lost = await ended(requester, silent.action_hash)
          expect(lost.state.status).not.toBe('done')
          expect(lost.state.assignments).toHaveLength(1)
          expect(lost.state.results).toEqual([])
        })
      })
    })

    it('runs a task submitted on alice on exactly one of two claimants, and says why another stays unclaimed', async () => {
      await runScenario({ backend }, async (scenario) => {
        const [alice, bob, carol] = await scenario.addPlayers(3)
        await scenario.shareAllAgents()
        const log: RunLog = { runs: [] }
        // Only bob and carol carry the tag the task asks for, so both are among the nodes eager to claim
        // whatever the rendezvous order (alice, a requester without workers, would otherwise count).
        const hosts = [
          await startSchedulerHost(alice!, { name: 'alice', workers: false, log }),
          await startSchedulerHost(bob!, { name: 'bob', log, capability: { tags: ['hashing'] } }),
          await startSchedulerHost(carol!, { name: 'carol', log, capability: { tags: ['hashing'] } }),
        ]
        await withHosts(hosts, async () => {
          await scenario.dhtSync([alice!, bob!, carol!], 'agent_registry')
          const requester = hosts[0]!.scheduler
          const ref = await requester.submit(
            ...order({
              kind: 'sha256',
              input: { data: 'mesh' },
              requirements: { ...NO_REQUIREMENTS, tags: ['hashing'] },
            }),
          )
          const done = await ended(requester, ref.action_hash)
          expect(done.state.status).toBe('done')
          // The first of the two by rendezvous claims at once and, their hardware equal, is assigned
          // at once; the spare claims only if the task is still unassigned half a window on.
          const claimants = [bob!.agentPubKey, carol!.agentPubKey]
          const [first] = rendezvousOrder(ref.action_hash, claimants)
          expect(done.state.claims.map((c) => c.author)).toContain(first)
          expect(done.state.claims.every((c) => claimants.includes(c.author))).toBe(true)
          expect(done.state.assignments).toHaveLength(1)
          const assignee = done.state.assignments[0]!.entry.assignee
          expect(assignee).toBe(first)
          expect(done.state.results).toEqual([expect.objectContaining({ author: assignee })])
          expect(done.state.receipt?.entry).toMatchObject({
            accepted: true,
            result: done.state.results[0]!.action_hash,
          })
          expect(log.runs.filter((r) => (r.input as { data?: string }).data === 'mesh')).toHaveLength(1)

          // Nobody has this model or that much RAM: it stays unclaimed and says why.
          const big = await requester.submit(
            ...order({
              requirements: { ...NO_REQUIREMENTS, model: 'llama-70b', min_ram_bytes: 64 * 1024 ** 3 },
            }),
          )
          await holdsTask([bob!, carol!], big.action_hash)
          await new Promise((resolve) => setTimeout(resolve, 500))
          const view = await requester.view(big.action_hash)
          expect(view.state.status).toBe('submitted')
          expect(view.why_unclaimed).toBe(
            'no node has 64.0 GiB of RAM; no node has model "llama-70b"; this host has no worker for kind echo',
          )

          // The input and the output stay with alice and the assignee. The claimant that was not
          // assigned asks alice over the mesh for the attempt's input: no answer; it offers her an
          // output for that attempt: she keeps none of it; its own store holds neither.
          const [forger, honest] = assignee === bob!.agentPubKey ? [carol!, bob!] : [bob!, carol!]
          const assignment = done.state.assignments[0]!
          const heard: unknown[] = []
          const unhear = forger.port.onSignal((signal) => heard.push(signal.payload))
          const about = { task: ref.action_hash, assignment: assignment.action_hash }
          await forger.port.sendSignal('resource_mesh', alice!.agentPubKey, {
            type: 'task-input-ask',
            ...about,
          })
          const planted = { sha256: 'planted', bytes: 0 }
          await forger.port.sendSignal('resource_mesh', alice!.agentPubKey, {
            type: 'task-output',
            ...about,
            content: planted,
          })
          await new Promise((resolve) => setTimeout(resolve, 1500))
          unhear()
          expect(heard.filter((p) => (p as { type?: string }).type === 'task-input')).toEqual([])
          expect(await alice!.port.callZome('resource_mesh', 'get_payload', payloadHash(planted))).toBeNull()
          const { input_hash } = done.state.task.entry
          expect(await alice!.port.callZome('resource_mesh', 'get_payload', input_hash)).toMatchObject({
            content: { data: 'mesh' },
          })
          expect(await forger.port.callZome('resource_mesh', 'get_payload', input_hash)).toBeNull()
          const output = done.state.results[0]!.entry.output_hash
          expect(await forger.port.callZome('resource_mesh', 'get_payload', output)).toBeNull()
          expect(await honest.port.callZome('resource_mesh', 'get_payload', output)).not.toBeNull()

          // The claimant that was not assigned forges a result for the assignee's attempt: nobody keeps it.
          const forged: TaskResult = {
            ...done.state.results[0]!.entry,
            output_hash: payloadHash({ sha256: 'forged', bytes: 0 }),
          }
          expect(forged.assignment).toBe(assignment.action_hash)
          const op = await craftCreate(authorCell(forger, 'resource_mesh'), 'Result', forged)
          await publishOps(forger, 'resource_mesh', [op.op])
          await waitUntil(10_000, () =>
            [alice!, honest].every((p) => p.replication.isWarranted(forger.agentPubKey)),
          )
          for (const peer of [alice!, honest]) {
            expect(peer.replication.listWarrants()).toContainEqual(
              expect.objectContaining({ agent: forger.agentPubKey, rule: 'result.author_is_assignee' }),
            )
            const state = await peer.port.callZome('resource_mesh', 'get_task_state', ref.action_hash)
            expect(state?.results).toHaveLength(1)
          }
        })
      })
    })

    it('gives the task to the next claimant when the assignee dies mid-task; exactly one result is accepted', async () => {
      await runScenario({ backend }, async (scenario) => {
        const [alice, bob, carol] = await scenario.addPlayers(3)
        await scenario.shareAllAgents()
        const log: RunLog = { runs: [] }
        const hosts = [
          await startSchedulerHost(alice!, { name: 'alice', workers: false, log }),
          await startSchedulerHost(bob!, { name: 'bob', log }),
          await startSchedulerHost(carol!, { name: 'carol', log }),
        ]
        await withHosts(hosts, async () => {
          const requester = hosts[0]!.scheduler
          const ref = await requester.submit(
            ...order({ input: { message: 'slow', delay_ms: 1_500 }, lease_ms: 2_500, max_attempts: 2 }),
          )
          const first = await until('the first attempt to run', async () => {
            const view = await requester.view(ref.action_hash)
            return view.state.status === 'running' ? view.state.assignments[0]! : undefined
          })
          const bobRuns = first.entry.assignee === bob!.agentPubKey
          const victim = bobRuns ? { player: bob!, host: hosts[1]! } : { player: carol!, host: hosts[2]! }
          const survivor = bobRuns ? carol! : bob!
          // Killed: its scheduler and peer go down mid-run, posting nothing.
          await victim.host.stop()
          await victim.player.shutdown()

          const done = await ended(requester, ref.action_hash)
          expect(done.state.status).toBe('done')
          expect(done.state.assignments.map((a) => [a.entry.attempt, a.entry.assignee])).toEqual([
            [1, victim.player.agentPubKey],
            [2, survivor.agentPubKey],
          ])
          expect(done.state.results).toEqual([expect.objectContaining({ author: survivor.agentPubKey })])
          expect(done.state.receipt?.entry.accepted).toBe(true)
          // The second attempt was only assigned after the first lease ran out.
          expect(done.state.assignments[1]!.timestamp).toBeGreaterThan(first.entry.lease_expires_at)
        })
      })
    })

    it('stops a run a policy denies, records the Decision, and refuses a policy from a non-admin everywhere', async () => {
      const adminDir = await mkdtemp(join(tmpdir(), 'ripple-scenario-admin-'))
      const adminKey = await openAgentKey(adminDir)
      const network = scenarioNetwork({
        dna_properties: { policy_store: { progenitor: encodeHashB64(adminKey.agentPubKey) } },
      })
      try {
        await runScenario({ backend, network }, async (scenario) => {
          const [alice, bob, mallory] = await scenario.addPlayers(3)
          const admin = await createEmbeddedPeer({
            dataDir: adminDir,
            network,
            listen: LOOPBACK_LISTEN,
            mdnsInterface: '127.0.0.1',
            loopbackTuning: true,
            handshakeTimeoutMs: 2_000,
            replication: { intervalMs: 500 },
          })
          try {
            await scenario.shareAllAgents()
            const log: RunLog = { runs: [] }
            const hosts = [
              await startSchedulerHost(alice!, { name: 'alice', workers: false, log }),
              await startSchedulerHost(bob!, { name: 'bob', log }),
            ]
            await withHosts(hosts, async () => {
              // A non-admin's own conductor will not sign a policy; forged onto the wire, every peer refuses it.
              const forged = await craftCreate(authorCell(mallory!, 'policy_store'), 'Policy', {
                id: 'takeover',
                version: 1,
                text: 'forbid(principal, action, resource);',
                description: '',
                admin_grant: null,
              })
              await publishOps(mallory!, 'policy_store', [forged.op])
              await waitUntil(10_000, () =>
                [alice!, bob!].every((p) => p.replication.isWarranted(mallory!.agentPubKey)),
              )
              for (const peer of [alice!, bob!]) {
                expect(peer.replication.listWarrants()).toContainEqual(
                  expect.objectContaining({ agent: mallory!.agentPubKey, rule: 'policy.author_is_admin' }),
                )
              }

              await admin.conductor.callZome('policy_store', 'publish_policy', {
                id: 'no-sha256-runs',
                version: 1,
                text: 'permit(principal, action, resource);\nforbid(principal, action == Action::"run", resource) when { resource.kind == "sha256" };',
                description: 'sha256 may be claimed but never run',
                admin_grant: null,
              })
              await until('the policy to reach alice and bob', async () => {
                const seen = await Promise.all(
                  [alice!, bob!].map((p) => p.port.callZome('policy_store', 'list_policies', null)),
                )
                return seen.every((list) => list.length === 1) ? true : undefined
              })

              const requester = hosts[0]!.scheduler
              const ref = await requester.submit(
                ...order({ kind: 'sha256', input: { data: 'denied' }, max_attempts: 1 }),
              )
              const view: TaskView = await ended(requester, ref.action_hash)
              expect(view.state.status).toBe('failed')
              expect(view.state.results[0]?.entry).toMatchObject({
                status: 'error',
                error: expect.stringMatching(/^denied by policy: forbidden by no-sha256-runs/),
              })
              expect(log.runs).toEqual([])
              const decision = await until('the Decision to reach alice', async () => {
                const decisions = (await requester.view(ref.action_hash)).decisions
                return decisions.find((d) => d.entry.action === 'run')
              })
              expect(decision).toMatchObject({
                author: bob!.agentPubKey,
                entry: { subject: bob!.agentPubKey, allowed: false, policy_ids: ['no-sha256-runs'] },
              })
              // Other kinds still run.
              const echo = await requester.submit(...order({ input: { message: 'allowed' } }))
              expect((await ended(requester, echo.action_hash)).state.status).toBe('done')
            })
          } finally {
            await admin.stop()
          }
        })
      } finally {
        await rm(adminDir, { recursive: true, force: true })
      }
    })
  })
})
