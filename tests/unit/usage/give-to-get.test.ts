/**
 * Give to get (issue 47, point 4): a member's weight from the requests it served in the last day,
 * bounded, read once a minute; and the turns it buys at a busy runner. Counted as both parties signed
 * it (issue 55, point 10): a runner that claims more in its own public batch than this peer's signed
 * leaves hold gains nothing by it.
 */
import { describe, expect, it } from 'vitest'
import type { ConductorPort } from '../../../host/interface/conductor-port.ts'
import { SlotTurns } from '../../../host/requests/direct/slot-turns.ts'
import { giveToGet, giveWeight, MAX_WEIGHT } from '../../../host/usage/give-to-get.ts'
import { UsageLedger } from '../../../host/usage/usage-ledger.ts'
import type { ServedLeaf } from '../../../zomes-bindings/index.ts'

const DAY_MS = 24 * 3_600_000
const NOW = Date.parse('2026-11-25T12:00:00Z')

/** A request `runner` served this peer, as this peer signs it: accepted with the runner's proven leaf, or not. */
function servedLeaf(runner: string, i: number, accepted: boolean): ServedLeaf {
  const at = (NOW - 3_600_000 + i) * 1000
  return {
    request: i.toString(16).padStart(64, '0'),
    runner,
    model: 'm',
    proof: accepted
      ? {
          batch: 'uhCkkBatch',
          leaf: {
            request: i.toString(16).padStart(64, '0'),
            requester: 'uhCAkOwner',
            model: 'm',
            model_file_hash: null,
            status: 'ok',
            output_hash: 'a'.repeat(64),
            tokens_in: 1,
            tokens_out: 1,
            started_at: at,
            finished_at: at,
          },
          index: 0,
          count: 1,
          path: [],
        }
      : null,
    output_hash: 'a'.repeat(64),
    accepted,
    reason: accepted ? '' : 'no proof came',
  }
}

describe('give to get', () => {
  it.each([
    [0, 1],
    [50, 1.5],
    [100, 2],
    [250, 3.5],
    [300, MAX_WEIGHT],
    [1_000_000, MAX_WEIGHT],
    [-5, 1],
  ])('served %i requests in a day: weight %d', (served, weight) => {
    expect(giveWeight(served)).toBe(weight)
  })

  it('reads the counts of the last day, once a minute', () => {
    let now = 1_800_000_000_000
    const asked: number[] = []
    let served = 100
    const weightOf = giveToGet(
      (since) => {
        asked.push(since)
        return new Map([['uhCAkSharer', served]])
      },
      () => now,
    )
    expect([weightOf('uhCAkSharer'), weightOf('uhCAkTaker')]).toEqual([2, 1])
    served = 300
    now += 59_999
    expect(weightOf('uhCAkSharer')).toBe(2)
    now += 1
    expect(weightOf('uhCAkSharer')).toBe(MAX_WEIGHT)
    expect(asked).toEqual([now - 60_000, now].map((t) => t - DAY_MS))
  })

  it('a runner that over-claims in its public batch weighs only what this peer signed it served', async () => {
    const ledger = new UsageLedger(() => NOW)
    const conductor = ledger.watch({ callZome: async () => null } as unknown as Pick<
      ConductorPort,
      'callZome'
    >)
    // Whatever the over-claimer's own public AnswerBatches say (10,000 a day, the top weight), this
    // peer asked it 3 requests and accepted them: its weight is theirs.
    const leaves = [
      ...Array.from({ length: 3 }, (_, i) => servedLeaf('uhCAkClaimer', i, true)),
      // Leaves whose proof did not hold (or never came) count nothing.
      ...Array.from({ length: 50 }, (_, i) => servedLeaf('uhCAkClaimer', 100 + i, false)),
      ...Array.from({ length: 300 }, (_, i) => servedLeaf('uhCAkSharer', 1000 + i, true)),
    ]
    await conductor.callZome(
      'resource_mesh',
      'record_served_batch' as never,
      {
        leaves: {
          root: 'c'.repeat(64),
          totals: { count: leaves.length, tokens_in: 0, tokens_out: 0 },
          accepted: 0,
          leaves,
        },
        opened_at: NOW * 1000,
        closed_at: NOW * 1000,
      } as never,
    )
    const weightOf = giveToGet(
      (since) => ledger.acceptedFrom(since),
      () => NOW,
    )
    expect(weightOf('uhCAkClaimer')).toBe(giveWeight(3))
    expect(weightOf('uhCAkSharer')).toBe(MAX_WEIGHT)
    expect(weightOf('uhCAkTaker')).toBe(1)
  })

  it('a member who served 300 requests takes 4 turns to one of a member who served none', async () => {
    const counts = new Map([['uhCAkSharer', 300]])
    const turns = new SlotTurns({
      self: 'uhCAkOwner',
      slotsOf: () => ({ slots: 1, busy: 0 }),
      weightOf: giveToGet(() => counts),
    })
    const options = { queue: true, signal: new AbortController().signal, waitMs: 60_000 }
    expect(await turns.take('m', 'uhCAkOwner', options)).toBe(true)
    const order: string[] = []
    const waiting = []
    for (let i = 0; i < 5; i++)
      for (const [member, name] of [
        ['uhCAkSharer', 'S'],
        ['uhCAkTaker', 'T'],
      ] as const)
        waiting.push(turns.take('m', member, options).then(() => order.push(name)))
    let holder = 'uhCAkOwner'
    for (let i = 0; i < 10; i++) {
      turns.release('m', holder)
      await Promise.resolve()
      await Promise.resolve()
      holder = order.at(-1) === 'S' ? 'uhCAkSharer' : 'uhCAkTaker'
    }
    await Promise.all(waiting)
    expect(order.join(' ')).toBe('S S S S T S T T T T')
  })
})
