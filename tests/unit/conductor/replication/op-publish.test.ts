/**
 * The placer over the members known now (read again when they may have changed, at most a second
 * apart otherwise), and the publisher's split of a commit: gossip for what lives everywhere (and
 * everything while not sharded), a push to its holders for a neighbourhood op.
 */
import { createHash } from 'node:crypto'
import type { Action } from '@holochain/client'
import { describe, expect, it } from 'vitest'
import type { Cell } from '../../../../host/conductor/embedded/cell.ts'
import { placeOp } from '../../../../host/conductor/embedded/replication/op-placement.ts'
import { OpPlacer } from '../../../../host/conductor/embedded/replication/op-placer.ts'
import { OpPublisher } from '../../../../host/conductor/embedded/replication/op-publisher.ts'
import { decodeOpBatch, type OpBatch } from '../../../../host/conductor/embedded/replication/op-wire.ts'
import { decodeHashB64, encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'
import { silentLogger } from '../../../../host/log/logger.ts'

const sha256 = (text: string) => new Uint8Array(createHash('sha256').update(text).digest())
const agentKey = (i: number) => encodeHashB64(holoHashFrom32(sha256(`member ${i}`), 'agent'))
const members = Array.from({ length: 6 }, (_, i) => agentKey(i))
const self = members[0]!
const cell = {
  dnaHash: new Uint8Array(39).fill(1),
  dna: { name: 'policy_store', entryTypes: ['Decision', 'Policy'], linkTypes: [] },
} as unknown as Cell
const create = (entry_index: number, n: number): Action =>
  ({
    type: 'Create',
    author: decodeHashB64(self, 'agent'),
    timestamp: n,
    action_seq: 3 + n,
    prev_action: holoHashFrom32(sha256(`prev ${n}`), 'action'),
    entry_type: { App: { entry_index, zome_index: 0, visibility: 'Public' } },
    entry_hash: holoHashFrom32(sha256(`entry ${n}`), 'entry'),
  }) as Action
const speaks = (yes: boolean) => ({ everySpeaks: () => yes })

function placer(
  over: { members?: () => string[]; everySpeaks?: boolean; now?: () => number; self?: string } = {},
) {
  return new OpPlacer({
    self: over.self ?? self,
    store: { getAction: () => null },
    members: over.members ?? (() => members),
    holders: 2,
    versions: speaks(over.everySpeaks ?? true),
    now: over.now,
  })
}

describe('op placer', () => {
  it.each([
    ['more members than R, all speaking record 1', 6, true, true],
    ['R members', 2, true, false],
    ['a member not speaking record 1', 6, false, false],
  ] as const)('%s: sharded %s', (_, count, everySpeaks, sharded) => {
    const p = placer({ members: () => members.slice(0, count), everySpeaks })
    expect(p.sharded).toBe(sharded)
    if (!sharded)
      expect(p.place(cell, create(0, 1), sha256('x'))).toEqual({ keep: 'chain', gossip: true, pushTo: [] })
  })

  it("keeps held an op pushed by an author's view that lacks a member, which its own plan keeps nowhere here", () => {
    // The author has not counted members[5] yet; every other peer has.
    const author = placer({ members: () => members.slice(0, 5) })
    const holders = new Map(members.map((m) => [m, placer({ self: m })]))
    let beyondPlan = 0
    for (let n = 0; n < 100; n++) {
      const action = create(0, n)
      const hash = sha256(`op ${n}`)
      for (const to of author.place(cell, action, hash).pushTo) {
        const plan = placeOp({
          action,
          hash,
          scope: 'neighbourhood',
          members,
          holders: 2,
          self: to,
          sharded: true,
        })
        expect(holders.get(to)!.place(cell, action, hash).keep).not.toBeNull()
        if (plan.keep === null) beyondPlan++
      }
    }
    // Before VIEW_MARGIN these were dropped on arrival (and acknowledged).
    expect(beyondPlan).toBeGreaterThan(0)
  })

  it('reads the members at most a second apart, and at once when told they changed', () => {
    let reads = 0
    let now = 0
    const p = placer({
      members: () => {
        reads++
        return members
      },
      now: () => now,
    })
    for (let i = 0; i < 5; i++) p.place(cell, create(0, i), sha256(`op ${i}`))
    expect(reads).toBe(1)
    now = 999
    void p.sharded
    expect(reads).toBe(1)
    now = 1_000
    void p.sharded
    expect(reads).toBe(2)
    p.membersChanged()
    void p.sharded
    expect(reads).toBe(3)
  })
})

describe('op publisher', () => {
  function publisher(sharded: boolean) {
    const gossiped: OpBatch[] = []
    const pushed: { agent: string; batch: OpBatch }[] = []
    let published = 0
    const pub = new OpPublisher({
      pubsub: {
        publish: async (_channel, data) => {
          gossiped.push(decodeOpBatch(data))
          return 1
        },
      },
      placer: placer({ everySpeaks: sharded }),
      pusher: {
        push: async (agent, batch) => {
          pushed.push({ agent, batch })
          return true
        },
      },
      cellOf: () => cell,
      logger: silentLogger(),
      onPublished: (n) => {
        published += n
      },
      stopped: () => false,
    })
    return { pub, gossiped, pushed, published: () => published }
  }
  const committed = (entryIndex: number, n: number) => {
    const action = create(entryIndex, n)
    return {
      op: { action: Uint8Array.of(n), signature: new Uint8Array(64), entry: null },
      action,
      hash: sha256(`op ${n}`),
    }
  }

  it('gossips every op while not sharded', async () => {
    const { pub, gossiped, pushed, published } = publisher(false)
    pub.enqueue(cell.dnaHash, [committed(0, 1), committed(1, 2)])
    await Promise.resolve()
    expect(gossiped.map((b) => b.ops.length)).toEqual([2])
    expect(pushed).toEqual([])
    expect(published()).toBe(2)
  })

  it('gossips an everywhere op and pushes a neighbourhood op to its holders only, once sharded', async () => {
    const { pub, gossiped, pushed, published } = publisher(true)
    const decision = committed(0, 1)
    const policy = committed(1, 2)
    pub.enqueue(cell.dnaHash, [decision, policy])
    await Promise.resolve()
    expect(gossiped.flatMap((b) => b.ops.map((op) => op.action[0]))).toEqual([2])
    const plan = placer().place(cell, decision.action, decision.hash)
    expect(plan.pushTo.length).toBeGreaterThan(0)
    expect(new Set(pushed.map((p) => p.agent))).toEqual(new Set(plan.pushTo))
    expect(pushed.every((p) => p.batch.ops.length === 1 && p.batch.ops[0]!.action[0] === 1)).toBe(true)
    expect(published()).toBe(2)
  })
})
