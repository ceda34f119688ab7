/**
 * KnownNodes on a sharded mesh (issue 56/57): a task's capable nodes are found by walking the members
 * in the task's rendezvous order, reading capabilities until its eager claimants are found (or
 * WALK_MAX read), not by list_nodes (every member's capability from holders, once a second while
 * tasks flow). Every host gets the same eager claimants as over the whole list; a team's mesh (not
 * sharded) reads list_nodes as before.
 */
import { describe, expect, it } from 'vitest'
import type { ConductorPort } from '../../../host/interface/conductor-port.ts'
import { rendezvousOrder } from '../../../host/interface/rendezvous.ts'
import { SPARE_CLAIMANTS } from '../../../host/scheduler/claimant-plan.ts'
import { KnownNodes, WALK_MAX } from '../../../host/scheduler/known-nodes.ts'
import type { WorkersPort } from '../../../host/workers/workers-port.ts'
import type { EntryRecord, Task } from '../../../zomes-bindings/index.ts'
import { capability } from '../conductor/fixtures/capability.ts'
import { task } from './fixtures.ts'

const GIB = 1024 ** 3
const workers: WorkersPort = { get: () => undefined }

/** A mesh of `size` members, member i with 8 GiB of RAM, or 64 where `big(i)`, and `tags(i)`. */
function mesh(
  size: number,
  big: (i: number) => boolean = () => true,
  failing = new Set<string>(),
  tags: (i: number) => string[] = () => [],
) {
  const members = Array.from({ length: size }, (_, i) => `agent-${i}`)
  const entries = new Map(
    members.map((agent, i) => [
      agent,
      {
        author: agent,
        entry: capability({
          name: agent,
          hardware: { ...capability().hardware, ram_bytes: (big(i) ? 64 : 8) * GIB },
          tags: tags(i),
        }),
      },
    ]),
  )
  const reads: string[] = []
  let lists = 0
  const indexed: string[] = []
  const hostOf = (me: string, sharded: boolean) => {
    const conductor = {
      agentPubKey: me,
      callZome: async (_dna: string, fn: string, tag: string) => {
        if (fn === 'find_nodes_by_tag') {
          indexed.push(tag)
          return [...entries.values()].filter((n) => n.entry.tags.includes(tag))
        }
        if (fn !== 'list_nodes') throw new Error(`unexpected ${fn}`)
        lists++
        return [...entries.values()]
      },
    } as unknown as ConductorPort
    return new KnownNodes({
      conductor,
      workers,
      sharded: {
        now: () => sharded,
        members: () => members,
        capabilityOf: async (agent) => {
          if (agent !== me) reads.push(agent)
          if (failing.has(agent)) throw new Error(`no holder of ${agent}'s capability answered`)
          return entries.get(agent) ?? null
        },
      },
    })
  }
  return { members, reads, indexed, lists: () => lists, hostOf }
}

const record = (fields: Partial<Task>, n = 0): EntryRecord<Task> => ({
  action_hash: `task-${n}`,
  author: 'requester',
  timestamp: 1,
  entry: task({ fan_out: 1, ...fields }),
})
const needs32 = (n = 0) => record({ requirements: { ...task().requirements, min_ram_bytes: 32 * GIB } }, n)
const tagged = (tags: string[], n = 0, ram = 0) =>
  record({ requirements: { ...task().requirements, tags, min_ram_bytes: ram * GIB } }, n)

describe('KnownNodes on a sharded mesh', () => {
  it('reads as many capabilities at 1,000 members as at 20, and never list_nodes', async () => {
    for (const size of [20, 1000]) {
      const m = mesh(size)
      const capable = await m.hostOf(m.members[0]!, true).capableNodes(record({}))
      expect(m.lists()).toBe(0)
      // Fan-out 1 and a spare, every member capable: two reads (and this host's own, not read).
      expect(m.reads.length).toBeLessThanOrEqual(8)
      expect(capable.length).toBeLessThanOrEqual(1 + SPARE_CLAIMANTS + 8)
    }
  })

  it('finds the same eager claimants on every host as the whole list would', async () => {
    const m = mesh(300, (i) => i % 5 === 0)
    for (let n = 0; n < 5; n++) {
      const t = needs32(n)
      const all = m.members.filter((_, i) => i % 5 === 0)
      const eager = rendezvousOrder(t.action_hash, all).slice(0, 1 + SPARE_CLAIMANTS)
      for (const me of ['agent-3', 'agent-10', 'agent-299']) {
        const capable = (await m.hostOf(me, true).capableNodes(t)).map((c) => c.author)
        expect(rendezvousOrder(t.action_hash, capable).slice(0, eager.length)).toEqual(eager)
        // A capable host past the walk is listed behind those found; one that is not capable, not at all.
        expect(capable.includes(me)).toBe(me === 'agent-10')
      }
    }
    expect(m.lists()).toBe(0)
  })

  it('reads at most WALK_MAX members for a capability nobody has, and reuses a walk for a second', async () => {
    const m = mesh(1000, () => false)
    const host = m.hostOf(m.members[0]!, true)
    expect(await host.capableNodes(needs32())).toEqual([])
    expect(m.reads.length).toBe(WALK_MAX)
    await host.capableNodes(needs32())
    expect(m.reads.length).toBe(WALK_MAX)
  })

  it('walks on past a member whose capability cannot be read, as one not capable', async () => {
    const m = mesh(50)
    const t = record({})
    const [first, ...rest] = rendezvousOrder(t.action_hash, m.members.slice(1))
    const failing = mesh(50, () => true, new Set([first!]))
    const capable = (await failing.hostOf(m.members[0]!, true).capableNodes(t)).map((c) => c.author)
    expect(capable).not.toContain(first)
    expect(capable).toEqual(expect.arrayContaining(rest.slice(0, 1 + SPARE_CLAIMANTS)))
  })

  it('finds a tag only members past the walk have through the tag index, the same eager ones on every host', async () => {
    const t = tagged(['rare'])
    const order = rendezvousOrder(
      t.action_hash,
      Array.from({ length: 300 }, (_, i) => `agent-${i}`),
    )
    // Three members have the tag, all past the walk's first WALK_MAX: the first two of them are eager.
    const holders = [order[WALK_MAX + 40]!, order[WALK_MAX + 5]!, order[WALK_MAX + 200]!]
    const m = mesh(
      300,
      () => true,
      new Set(),
      (i) => (holders.includes(`agent-${i}`) ? ['rare'] : []),
    )
    const eager = rendezvousOrder(t.action_hash, holders).slice(0, 1 + SPARE_CLAIMANTS)
    for (const me of [order[0]!, holders[2]!, order[299]!]) {
      const capable = (await m.hostOf(me, true).capableNodes(t)).map((c) => c.author)
      expect(rendezvousOrder(t.action_hash, capable).slice(0, eager.length)).toEqual(eager)
      expect(capable.includes(holders[2]!)).toBe(me === holders[2])
    }
    // Each host read the walk's members (but its own) and the tag's index, once.
    expect(m.indexed).toEqual(['rare', 'rare', 'rare'])
    expect(m.reads.length).toBeLessThanOrEqual(3 * WALK_MAX)
  })

  it('looks up no index where the walk found enough or read every member, nor for a tag common among those walked', async () => {
    // Short of 32 GiB members (the two there are lie past the walk), not of the tag, which all 300 have:
    // its index would list all 300. Not found; as a rare model, left to the late claimants.
    const t = tagged(['common'], 0, 32)
    const order = rendezvousOrder(
      t.action_hash,
      Array.from({ length: 300 }, (_, i) => `agent-${i}`),
    )
    const big = [order[WALK_MAX + 10], order[WALK_MAX + 20]]
    const common = mesh(
      300,
      (i) => big.includes(`agent-${i}`),
      new Set(),
      () => ['common'],
    )
    expect(await common.hostOf(order[0]!, true).capableNodes(t)).toEqual([])
    const small = mesh(
      WALK_MAX,
      () => true,
      new Set(),
      (i) => (i === 5 ? ['rare'] : []),
    )
    expect((await small.hostOf('agent-0', true).capableNodes(tagged(['rare']))).map((c) => c.author)).toEqual(
      ['agent-5'],
    )
    const found = mesh(
      300,
      () => true,
      new Set(),
      () => ['everyone'],
    )
    await found.hostOf('agent-0', true).capableNodes(tagged(['everyone']))
    expect([...common.indexed, ...small.indexed, ...found.indexed]).toEqual([])
  })

  it('a team mesh (not sharded) lists every node, as before', async () => {
    const m = mesh(20)
    const capable = await m.hostOf(m.members[0]!, false).capableNodes(record({}))
    expect(capable).toHaveLength(20)
    expect(m.lists()).toBe(1)
    expect(m.reads).toEqual([])
  })
})
