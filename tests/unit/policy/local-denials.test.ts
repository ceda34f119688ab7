/**
 * A refusal pairs nobody in public (issue 55, point 6): a runner's denial of a request routed straight
 * to it (`trail: 'local'`) writes no Decision (which every peer would hold, naming requester, runner,
 * model and request) and is said in the runner's own log, one line per requester and reason a minute
 * however many offers come. Decisions of the scheduling round are recorded as before.
 */
import { describe, expect, it } from 'vitest'
import type { ConductorPort } from '../../../host/interface/conductor-port.ts'
import type { Logger } from '../../../host/log/logger.ts'
import type { PolicyVerdict } from '../../../host/policy/cedar-engine.ts'
import { LINE_EVERY_MS, LocalDenials } from '../../../host/policy/local-denials.ts'
import { PolicyService } from '../../../host/policy/policy-service.ts'
import type { DecisionInput } from '../../../host/policy/run-question.ts'
import { NO_REQUIREMENTS, type Policy } from '../../../zomes-bindings/index.ts'

const RUNNER = 'uhCAkRunner'
const REQUESTER = 'uhCAkRequester'

/** A logger that keeps its info lines. */
function lines() {
  const said: { fields: Record<string, unknown>; message: string }[] = []
  const logger = {
    info: (fields: Record<string, unknown>, message: string) => said.push({ fields, message }),
    warn: () => {},
    debug: () => {},
    child: () => logger,
  } as unknown as Logger
  return { said, logger }
}

const denial: PolicyVerdict = { allowed: false, policyIds: ['no-tiny'], reason: 'forbidden by no-tiny' }

function direct(requester = REQUESTER, request = 'a'.repeat(64)): DecisionInput {
  return {
    action: 'claim',
    subject: RUNNER,
    snapshot: null,
    run: {
      id: request,
      requester,
      kind: 'infer.generate',
      requirements: { ...NO_REQUIREMENTS, model: 'tiny' },
      input_bytes: 10,
      lease_ms: 600_000,
      max_attempts: 1,
      fan_out: 1,
    },
    decidedBy: RUNNER,
    trail: 'local',
  }
}

describe('a runner’s denials of direct requests, in its own log', () => {
  it.each([
    { name: 'the first denial', at: [0], said: [true] },
    {
      name: 'a hundred offers in a minute',
      at: Array.from({ length: 100 }, (_, i) => i * 100),
      said: [true],
    },
    { name: 'one a minute apart', at: [0, LINE_EVERY_MS], said: [true, true] },
  ])('$name: said once per minute', ({ at, said }) => {
    const clock = { now: 0 }
    const log = lines()
    const denials = new LocalDenials(log.logger, () => clock.now)
    const results = at.map((t, i) => {
      clock.now = t
      return denials.note(direct(REQUESTER, i.toString(16).padStart(64, '0')), denial)
    })
    expect(results.filter(Boolean)).toEqual(said)
    expect(log.said).toHaveLength(said.length)
    expect(log.said[0]).toMatchObject({
      fields: { requester: REQUESTER, model: 'tiny', policies: ['no-tiny'] },
      message: expect.stringContaining('forbidden by no-tiny'),
    })
  })

  it('says how many came since the last line, and each requester apart', () => {
    const clock = { now: 0 }
    const log = lines()
    const denials = new LocalDenials(log.logger, () => clock.now)
    for (let i = 0; i < 5; i++) denials.note(direct(), denial)
    denials.note(direct('uhCAkOther'), denial)
    clock.now = LINE_EVERY_MS
    denials.note(direct(), denial)
    expect(log.said.map((l) => [l.fields.requester, l.fields.more_since_last])).toEqual([
      [REQUESTER, undefined],
      ['uhCAkOther', undefined],
      [REQUESTER, 4],
    ])
  })
})

describe('the policy service and the trail', () => {
  const policies = [
    {
      action_hash: 'uhCkkPolicy',
      author: RUNNER,
      timestamp: 1,
      entry: {
        id: 'no-tiny',
        version: 1,
        text: 'forbid(principal, action, resource) when { resource.model == "tiny" };',
        description: '',
        admin_grant: null,
      } satisfies Policy,
    },
  ]

  function service() {
    const calls: string[] = []
    const log = lines()
    const conductor = {
      agentPubKey: RUNNER,
      callZome: async (_dna: string, fn: string) => {
        calls.push(fn)
        return fn === 'list_policies' ? policies : { action_hash: 'x', entry_hash: 'y' }
      },
    } as unknown as Pick<ConductorPort, 'agentPubKey' | 'callZome'>
    return { calls, log, service: new PolicyService({ conductor, cacheMs: 60_000, logger: log.logger }) }
  }

  it.each([
    { trail: 'local' as const, writes: 0, lines: 1 },
    { trail: 'public' as const, writes: 1, lines: 0 },
    { trail: undefined, writes: 1, lines: 0 },
  ])('a denial on the $trail trail: $writes public Decision(s)', async ({ trail, writes, lines: said }) => {
    const { calls, log, service: policy } = service()
    for (let i = 0; i < 3; i++) {
      const input = { ...direct(), trail }
      expect((await policy.decide(input)).allowed).toBe(false)
    }
    expect(calls.filter((fn) => fn === 'record_decision')).toHaveLength(writes)
    expect(log.said).toHaveLength(said)
  })
})
