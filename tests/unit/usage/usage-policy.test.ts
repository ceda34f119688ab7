/**
 * A runner's Cedar policies with the requester's recent usage and the slots' state in their context
 * (issue 47, points 2 and 3): the examples of the docs' usage page, "at most half my slots to others while I have
 * requests waiting" and "no more than 2M tokens a day to members outside my team", decided on
 * usage totalled from signed leaves and on the runner's slot turns. The policies are read from
 * docs/usage.md, so its examples work as written.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { ConductorPort } from '../../../host/interface/conductor-port.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { PolicyService } from '../../../host/policy/policy-service.ts'
import { taskQuestion } from '../../../host/policy/run-question.ts'
import type { NoRunnerError } from '../../../host/requests/direct/direct-errors.ts'
import { SlotTurns } from '../../../host/requests/direct/slot-turns.ts'
import { UsageLedger } from '../../../host/usage/usage-ledger.ts'
import { withRecentUsage } from '../../../host/usage/usage-policy.ts'
import { type AnswerLeaf, answerLeavesOf, type Policy } from '../../../zomes-bindings/index.ts'
import {
  A,
  ask,
  B,
  FakeMesh,
  peer,
  ME as REQUESTER,
  requester,
  runner,
} from '../requests/direct/direct-fixtures.ts'
import { task } from '../scheduler/fixtures.ts'

const ME = 'uhCAkRunner'
const TEAMMATE = 'uhCAkTeammate'
const OUTSIDER = 'uhCAkOutsider'

// The docs' examples as written there (its agents named for the test's).
const PAGE = readFileSync(new URL('../../../docs/usage.md', import.meta.url), 'utf8')
const [HALF_SLOTS = '', TEAM_PAGE = ''] = [...PAGE.matchAll(/```cedar\n([\s\S]*?)```/g)].map((m) => m[1])
const TEAM_DAY = TEAM_PAGE.replace('uhCAk...alice', TEAMMATE).replace('uhCAk...bob', 'uhCAkBob')

/** Decisions each runner's policies put on its audit trail (record_decision), by reason. */
const recorded: string[] = []

function runnerPolicies(texts: string[]) {
  const policies = texts.map((text, i) => ({
    action_hash: `uhCkkPolicy${i}`,
    author: ME,
    timestamp: 1,
    entry: { id: `p${i}`, version: 1, text, description: '', admin_grant: null } satisfies Policy,
  }))
  const conductor = {
    agentPubKey: ME,
    callZome: async (_dna: string, fn: string, payload: { reason?: string }) => {
      if (fn === 'record_decision') recorded.push(String(payload.reason))
      return fn === 'list_policies' ? policies : {}
    },
  } as unknown as Pick<ConductorPort, 'agentPubKey' | 'callZome'>
  return new PolicyService({ conductor, cacheMs: 0, logger: silentLogger() })
}

/** A ledger that totalled a runner's window: `tokens` served to each requester, in one request each. */
async function ledgerOf(served: Record<string, number>, atMs = Date.now()) {
  const ledger = new UsageLedger()
  const now = atMs * 1000
  const leaves = Object.entries(served).map(
    ([requester, tokens], i): AnswerLeaf => ({
      request: String(i).padStart(64, '0'),
      requester,
      model: 'm',
      model_file_hash: null,
      status: 'ok',
      output_hash: 'f'.repeat(64),
      tokens_in: tokens - 1,
      tokens_out: 1,
      started_at: now - 1000,
      finished_at: now,
    }),
  )
  const conductor = ledger.watch({ callZome: async () => ({ batch: 'b', leaves: 'l' }) } as never)
  await (conductor as Pick<ConductorPort, 'callZome'>).callZome('resource_mesh', 'post_answer_batch', {
    leaves: answerLeavesOf(leaves),
    opened_at: now,
    closed_at: now,
  })
  return ledger
}

const run = (author: string, context?: () => Record<string, boolean | number>) => ({
  action: 'run' as const,
  subject: ME,
  snapshot: null,
  run: taskQuestion({ action_hash: 'uhCkkTask', author, timestamp: 1, entry: task() }),
  decidedBy: ME,
  ...(context && { context }),
})

describe('policies with usage in their context', () => {
  it('no more than 2M tokens a day to members outside the team', async () => {
    const usage = await ledgerOf({ [OUTSIDER]: 2_000_000, [TEAMMATE]: 5_000_000, uhCAkLight: 1_999_999 })
    const policies = withRecentUsage(runnerPolicies([HALF_SLOTS, TEAM_DAY]), usage)
    expect(await policies.decide(run(OUTSIDER))).toMatchObject({ allowed: false, reason: 'forbidden by p1' })
    expect((await policies.decide(run(TEAMMATE))).allowed).toBe(true)
    expect((await policies.decide(run('uhCAkLight'))).allowed).toBe(true)
  })

  it('a denial on usage says when it lifts: the hour its tokens leave the day’s window', async () => {
    const hour = Date.UTC(2026, 10, 25, 4)
    const usage = await ledgerOf({ [OUTSIDER]: 2_000_000 }, hour + 10 * 60_000)
    const now = hour + 30 * 60_000
    // A cap on the hour too: at 06:00 the hour's count drops, and the day's still refuses.
    const HOUR_CAP = `forbid(principal, action == Action::"run", resource)
  when { context has requester_tokens_hour && context.requester_tokens_hour >= 1000000 };`
    const policies = withRecentUsage(runnerPolicies([HALF_SLOTS, TEAM_DAY, HOUR_CAP]), usage, () => now)
    // Counted by whole hours: the 04:00 row is in the day until 05:00 the next day, 24.5 h on.
    recorded.length = 0
    expect(await policies.decide(run(OUTSIDER))).toMatchObject({ allowed: false, retryAfterS: 24.5 * 3600 })
    // The what-ifs at later hours are evaluated, not recorded: the trail holds the one decision made.
    expect(recorded).toHaveLength(1)
    expect(await policies.decide(run(TEAMMATE))).toEqual(
      expect.not.objectContaining({ retryAfterS: expect.anything() }),
    )
  })

  it('at most half the slots to others while the owner has requests waiting', async () => {
    const turns = new SlotTurns({ self: ME, slotsOf: () => ({ slots: 4, busy: 0 }) })
    const policies = withRecentUsage(runnerPolicies([HALF_SLOTS]), new UsageLedger())
    const decide = (author: string) => policies.decide(run(author, () => turns.context('m', author)))
    const take = (member: string) =>
      turns.take('m', member, { queue: true, signal: new AbortController().signal, waitMs: 60_000 })
    await take(OUTSIDER)
    // One of four slots to others and the owner waits for none: allowed.
    expect((await decide(OUTSIDER)).allowed).toBe(true)
    await take(OUTSIDER)
    await take(ME)
    await take(ME)
    const waiting = take(ME)
    // Two of four to others, and the owner waits: the next of others is refused; the owner's is not.
    const refused = await decide(OUTSIDER)
    expect(refused).toMatchObject({ allowed: false, reason: 'forbidden by p0' })
    // Slots free when they free: the policies name no time (the requester's default).
    expect(refused.retryAfterS).toBeUndefined()
    expect((await decide(ME)).allowed).toBe(true)
    turns.release('m', OUTSIDER)
    expect(await waiting).toBe(true)
    expect((await decide(OUTSIDER)).allowed).toBe(true)
  })

  it('a request its usage refuses at one runner is served by the next', async () => {
    const mesh = new FakeMesh()
    const usage = await ledgerOf({ [REQUESTER]: 2_500_000 })
    const strict = withRecentUsage(runnerPolicies([HALF_SLOTS, TEAM_DAY]), usage)
    const refusing = await runner(mesh, A, undefined, undefined, { decide: (input) => strict.decide(input) })
    const serving = await runner(mesh, B)
    // A has the more free slots: tried first, it refuses on the offer, before reading the prompt.
    const { inference } = requester(mesh, [peer(A, 8), peer(B, 2)])
    expect(await ask(inference, 'hi')).toMatchObject({ peer: B, output: { text: 'echo: hi' } })
    expect([refusing, serving]).toEqual([[], ['hi']])
    const alone = await ask(requester(mesh, [peer(A, 8)]).inference, 'hi').catch((e: unknown) => e)
    expect((alone as NoRunnerError).reasons).toMatchObject([{ agent: A, why: 'busy/limited' }])
    expect((alone as Error).message).toMatch(/denied by policy: forbidden by p1/)
    // The runner said when its day's count lets it: between 24 and 25 hours on (by whole hours).
    expect((alone as NoRunnerError).failureKind).toBe('busy/limited')
    expect((alone as NoRunnerError).retryAfterS).toBeGreaterThan(24 * 3600)
    expect((alone as NoRunnerError).retryAfterS).toBeLessThanOrEqual(25 * 3600)
  })
})
