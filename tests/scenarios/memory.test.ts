/**
 * The shared memory across peers in this process: each player runs a MemoryService over its own node's
 * request/response protocol and its own Helia (snapshots), as the daemon wires them. Which peers are
 * live comes from the test (the `live` list stands in for the registry's online/offline view, tested
 * on its own in heartbeats.test.ts), so a holder can be taken away at a chosen moment.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { waitForAction } from '../../host/conductor/embedded/replication/index.ts'
import { startHeliaStore } from '../../host/ipfs/helia-store.ts'
import type { IpfsStore } from '../../host/ipfs/ipfs-store.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { ipfsSnapshotStore } from '../../host/memory/ipfs-snapshots.ts'
import { MemoryService } from '../../host/memory/memory-service.ts'
import { agentMemoryTransport, type MemoryTransport } from '../../host/memory/memory-transport.ts'
import { libp2pAgentPort } from '../../host/node/agent-port.ts'
import { bruteForceTopK, clusteredVectors, recall, row } from '../fixtures/vector-data.ts'
import { type Player, runScenario, type Scenario } from './harness.ts'

interface MemoryPlayer {
  player: Player
  ipfs: IpfsStore
  memory: MemoryService
  /** Snapshots this peer fetched from IPFS to catch a shard up. */
  snapshotsFetched: string[]
}

const DIM = 64
const COUNT = 20_000
const QUERIES = 40

const GiB = 2 ** 30

interface MemoryOptions {
  /** The memory capacity each agent advertises (by default 1 GiB each). */
  capacity?: (agent: string) => number
  /** While true, this peer's memory requests fail both ways: a network partition around its memory. */
  cut?: () => boolean
  /** How often its placement is checked (200 ms by default). */
  reconcileIntervalMs?: number
  /** How often it compares shards with their other holders (500 ms by default), and how old a write must be. */
  repair?: { intervalMs: number; settleMs: number }
}

async function withMemory(
  scenario: Scenario,
  dir: string,
  player: Player,
  live: () => string[],
  {
    capacity = () => GiB,
    cut = () => false,
    reconcileIntervalMs = 200,
    repair = { intervalMs: 500, settleMs: 10_000 },
  }: MemoryOptions = {},
): Promise<MemoryPlayer> {
  const ipfs = await startHeliaStore({ libp2p: player.node.libp2p, dir: join(dir, player.name, 'ipfs') })
  const snapshots = ipfsSnapshotStore(ipfs)
  const snapshotsFetched: string[] = []
  const memory = new MemoryService({
    conductor: player.conductor,
    transport: partitionable(agentMemoryTransport(libp2pAgentPort(player.node)), cut),
    dir: join(dir, player.name, 'memory'),
    peers: async () => live().map((agent) => ({ agent, load: 0, capacity: capacity(agent) })),
    snapshots: {
      put: snapshots.put,
      get: (cid, signal) => {
        snapshotsFetched.push(cid)
        return snapshots.get(cid, signal)
      },
    },
    reconcileIntervalMs,
    repairIntervalMs: repair.intervalMs,
    repairSettleMs: repair.settleMs,
    waitForRecord: (hash, timeoutMs) =>
      waitForAction({ store: player.conductor.store, replication: player.replication }, hash, timeoutMs),
    onRecordsStored: player.onRecordsStored,
    logger: silentLogger(),
  })
  await memory.start()
  void scenario
  return { player, ipfs, memory, snapshotsFetched }
}

/**
 * The transport with a switch: while `cut()` it refuses every request out and answers none coming in,
 * as a partition would (the bytes otherwise go over the real libp2p protocol).
 */
function partitionable(transport: MemoryTransport, cut: () => boolean): MemoryTransport {
  const partitioned = () => new Error('partitioned')
  return {
    serve: (handler) =>
      transport.serve((request, from) => (cut() ? Promise.reject(partitioned()) : handler(request, from))),
    request: (agent, request, options) =>
      cut() ? Promise.reject(partitioned()) : transport.request(agent, request, options),
    stop: () => transport.stop(),
  }
}

/** Every shard the placement gives a live peer is ready there. */
async function allReady(peers: MemoryPlayer[], name: string): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const views = await Promise.all(peers.map((p) => p.memory.show(name).catch(() => null)))
    const ready = views.every((v, i) =>
      v?.shards.every(
        (s) => !s.holders.includes(peers[i]?.player.agentPubKey ?? '') || s.here?.ready === true,
      ),
    )
    if (ready) return
    if (Date.now() > deadline)
      throw new Error(
        `shards of ${name} not ready: ${JSON.stringify(views.map((v) => v?.shards.map((s) => s.here)))}`,
      )
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Runs `body` on `count` players that know each other, then stops every memory service it started. */
async function memoryScenario(
  count: number,
  body: (s: { scenario: Scenario; players: Player[]; dir: string; running: MemoryPlayer[] }) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ripple-memory-'))
  const running: MemoryPlayer[] = []
  try {
    await runScenario(async (scenario) => {
      const players = await scenario.addPlayers(count)
      await scenario.shareAllAgents(players)
      await body({ scenario, players, dir, running })
    })
  } finally {
    for (const p of running) {
      await p.memory.stop().catch(() => {})
      await p.ipfs.stop().catch(() => {})
    }
    await rm(dir, { recursive: true, force: true })
  }
}

async function meanRecall(from: MemoryService, data: Float32Array, queries: Float32Array) {
  let total = 0
  const missing = new Set<number>()
  for (let q = 0; q < QUERIES; q++) {
    const query = row(queries, DIM, q)
    const answer = await from.query('vectors', { vector: Array.from(query), k: 10 })
    for (const s of answer.shards_missing) missing.add(s)
    total += recall(
      answer.hits.map((h) => Number(h.id.slice(4))),
      bruteForceTopK(data, DIM, query, 10),
    )
  }
  return { recall: total / QUERIES, missing: [...missing] }
}

describe('shared memory on a mesh', () => {
  it('upserts 20,000 vectors from one peer, answers another with recall@10 >= 0.95, survives a holder going away, and a new peer takes over shards from a snapshot', async () => {
    await memoryScenario(3, async ({ scenario, players, dir, running }) => {
      let live = players.map((p) => p.agentPubKey)
      for (const p of players) running.push(await withMemory(scenario, dir, p, () => live))
      const [alice, bob, carol] = running as [MemoryPlayer, MemoryPlayer, MemoryPlayer]

      await alice.memory.create({
        name: 'vectors',
        dimension: DIM,
        metric: 'cosine',
        shard_count: 8,
        replication: 2,
        embedding_model: 'none',
      })
      await scenario.dhtSync(players, 'memory_shards')

      const data = clusteredVectors(COUNT, DIM, 11)
      const queries = clusteredVectors(QUERIES, DIM, 11, 1)
      let progress = 0
      for (let start = 0; start < COUNT; start += 5000) {
        const docs = Array.from({ length: 5000 }, (_, j) => ({
          id: `doc-${start + j}`,
          vector: Array.from(row(data, DIM, start + j)),
          metadata: { n: start + j },
        }))
        const result = await alice.memory.upsert('vectors', docs, {
          onProgress: ({ done }) => (progress = done),
        })
        expect(result.shards.every((s) => s.holders === 2 && s.written === 2)).toBe(true)
      }
      expect(progress).toBe(5000)

      const fromBob = await meanRecall(bob.memory, data, queries)
      expect(fromBob.missing).toEqual([])
      expect(fromBob.recall).toBeGreaterThanOrEqual(0.95)

      // Carol goes away without a word; the others still list her live, so her shards fail over
      // to their other replica mid-query.
      await carol.memory.stop()
      await carol.ipfs.stop()
      await carol.player.shutdown()
      const failover = await meanRecall(bob.memory, data, queries)
      expect(failover.missing).toEqual([])
      expect(failover.recall).toBeCloseTo(fromBob.recall, 5)

      // Then she is offline: placement moves her shards, their new holders catch up from the replica left.
      live = [alice.player.agentPubKey, bob.player.agentPubKey]
      await allReady([alice, bob], 'vectors')
      const afterLeave = await meanRecall(alice.memory, data, queries)
      expect(afterLeave.missing).toEqual([])
      expect(afterLeave.recall).toBeCloseTo(fromBob.recall, 5)

      // Dave joins: he takes the shards placement gives him from their latest snapshot and the writes after it.
      const [davePlayer] = await scenario.addPlayers(1)
      if (davePlayer === undefined) throw new Error('no dave')
      await scenario.shareAllAgents([alice.player, bob.player, davePlayer])
      await scenario.dhtSync([alice.player, bob.player, davePlayer], 'memory_shards')
      const dave = await withMemory(scenario, dir, davePlayer, () => live)
      running.push(dave)
      live = [...live, davePlayer.agentPubKey]
      await allReady([alice, bob, dave], 'vectors')
      const daveView = await dave.memory.show('vectors')
      const daves = daveView.shards.filter((s) => s.holders.includes(davePlayer.agentPubKey))
      expect(daves.length).toBeGreaterThan(0)
      const aliceView = await alice.memory.show('vectors')
      const bobView = await bob.memory.show('vectors')
      for (const s of daves) {
        const other = [aliceView, bobView].map((v) => v.shards[s.shard]?.here).find((h) => h?.ready)
        expect(s.here?.docs).toBe(other?.docs)
      }
      const fromDave = await meanRecall(dave.memory, data, queries)
      expect(fromDave.missing).toEqual([])
      expect(fromDave.recall).toBeCloseTo(fromBob.recall, 5)
    })
  }, 240_000)

  it('places shards only on peers that advertise memory capacity, and refuses a collection nobody has room for', async () => {
    await memoryScenario(3, async ({ scenario, players, dir, running }) => {
      const [alice, bob, carol] = players.map((p) => p.agentPubKey) as [string, string, string]
      let live = [alice, bob, carol]
      // Carol runs with --memory-max-size 0: she writes and queries, and holds nothing.
      const capacity = (agent: string) => (agent === carol ? 0 : GiB)
      for (const p of players) running.push(await withMemory(scenario, dir, p, () => live, { capacity }))
      const carolMemory = running[2]!.memory

      await carolMemory.create({
        name: 'roomy',
        dimension: 4,
        metric: 'l2',
        shard_count: 8,
        replication: 3,
        embedding_model: 'none',
      })
      await scenario.dhtSync(players, 'memory_shards')
      const view = await carolMemory.show('roomy')
      for (const s of view.shards) expect(s.holders.slice().sort()).toEqual([alice, bob].sort())
      const docs = Array.from({ length: 200 }, (_, i) => ({ id: `d${i}`, vector: [i, 1, 0, 0] }))
      const written = await carolMemory.upsert('roomy', docs)
      expect(written.shards.every((s) => s.holders === 2 && s.written === 2)).toBe(true)
      const answer = await carolMemory.query('roomy', { vector: [42, 1, 0, 0], k: 1 })
      expect(answer).toMatchObject({ hits: [{ id: 'd42' }], shards_missing: [] })
      expect(carolMemory.shardsHeld()).toBe(0)
      expect(running[0]!.memory.shardsHeld()).toBe(8)

      // Alice and Bob go offline: nobody left has room, so a new collection is refused and not written.
      live = [carol]
      const refused = carolMemory.create({
        name: 'homeless',
        dimension: 4,
        metric: 'l2',
        shard_count: 2,
        replication: 1,
        embedding_model: 'none',
      })
      await expect(refused).rejects.toMatchObject({ name: 'NoMemoryRoomError', unplaced: [0, 1] })
      await expect(refused).rejects.toThrow(/no live peer has memory room .*--memory-max-size/)
      expect((await carolMemory.list()).map((c) => c.name)).toEqual(['roomy'])
      // And a write to the older collection says why it cannot be kept.
      await expect(carolMemory.upsert('roomy', [{ id: 'late', vector: [1, 1, 1, 1] }])).rejects.toThrow(
        /no live peer has memory room for it/,
      )
    })
  }, 120_000)

  it('a holder cut off while upserts, updates and deletes happen pulls what it missed from its replica', async () => {
    const dim = 16
    await memoryScenario(2, async ({ scenario, players, dir, running }) => {
      // Both stay listed live: the cut is shorter than the registry's offline timeout.
      const live = players.map((p) => p.agentPubKey)
      let bobCut = false
      running.push(await withMemory(scenario, dir, players[0]!, () => live))
      running.push(await withMemory(scenario, dir, players[1]!, () => live, { cut: () => bobCut }))
      const [alice, bob] = running as [MemoryPlayer, MemoryPlayer]
      await alice.memory.create({
        name: 'replicas',
        dimension: dim,
        metric: 'cosine',
        shard_count: 4,
        replication: 2,
        embedding_model: 'none',
      })
      await scenario.dhtSync(players, 'memory_shards')

      const total = 3000
      const data = clusteredVectors(total, dim, 21)
      const docs = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, j) => ({
          id: `doc-${from + j}`,
          vector: Array.from(row(data, dim, from + j)),
        }))
      const before = await alice.memory.upsert('replicas', docs(0, 1500))
      expect(before.shards.every((s) => s.written === 2)).toBe(true)

      bobCut = true
      const during = await alice.memory.upsert('replicas', docs(1500, total))
      // Only Alice took them.
      expect(during.shards.every((s) => s.holders === 2 && s.written === 1)).toBe(true)
      const fresh = clusteredVectors(100, dim, 22)
      const updated = Array.from({ length: 100 }, (_, j) => j * 7)
      await alice.memory.upsert(
        'replicas',
        updated.map((i, j) => ({ id: `doc-${i}`, vector: Array.from(row(fresh, dim, j)) })),
      )
      const deleted = new Set(Array.from({ length: 200 }, (_, j) => 1 + j * 13))
      await alice.memory.delete(
        'replicas',
        [...deleted].map((i) => `doc-${i}`),
      )
      for (const [j, i] of updated.entries()) data.set(row(fresh, dim, j), i * dim)
      const shardsOf = async (m: MemoryPlayer) =>
        (await m.memory.show('replicas')).shards.map(
          (s) => s.here && { docs: s.here.docs, digest: s.here.digest },
        )
      expect(await shardsOf(bob)).not.toEqual(await shardsOf(alice))

      // The partition heals: Bob's periodic repair finds the buckets that differ and pulls them, once
      // they are 10 s old (repair leaves the writes still on their way alone): within ~15 s.
      bobCut = false
      await expect
        .poll(async () => shardsOf(bob), { timeout: 60_000, interval: 200 })
        .toEqual(await shardsOf(alice))
      expect((await shardsOf(bob)).reduce((n, s) => n + (s?.docs ?? 0), 0)).toBe(total - deleted.size)

      // Alice goes away: every shard is answered by Bob alone, as fully as Alice answered.
      const queries = clusteredVectors(QUERIES, dim, 21, 1)
      const exact = (q: Float32Array) =>
        bruteForceTopK(data, dim, q, 10 + deleted.size)
          .filter((i) => !deleted.has(i))
          .slice(0, 10)
      const recallOf = async (m: MemoryPlayer) => {
        let sum = 0
        for (let q = 0; q < QUERIES; q++) {
          const answer = await m.memory.query('replicas', {
            vector: Array.from(row(queries, dim, q)),
            k: 10,
          })
          expect(answer.shards_missing).toEqual([])
          sum += recall(
            answer.hits.map((h) => Number(h.id.slice(4))),
            exact(row(queries, dim, q)),
          )
        }
        return sum / QUERIES
      }
      const fromAlice = await recallOf(alice)
      await alice.memory.stop()
      await alice.ipfs.stop()
      await alice.player.shutdown()
      const fromBob = await recallOf(bob)
      expect(fromBob).toBeGreaterThanOrEqual(0.95)
      expect(fromBob).toBeCloseTo(fromAlice, 5)
      const moved = await bob.memory.query('replicas', { vector: Array.from(row(fresh, dim, 3)), k: 1 })
      expect(moved.hits[0]?.id).toBe(`doc-${updated[3]}`)
      const gone = await bob.memory.query('replicas', { vector: Array.from(row(data, dim, 14)), k: 5 })
      expect(gone.hits.map((h) => h.id)).not.toContain('doc-14')
      expect(deleted.has(14)).toBe(true)
    })
  }, 120_000)

  it('a new collection answers on every shard right after it is created and written', async () => {
    await memoryScenario(3, async ({ scenario, players, dir, running }) => {
      const live = players.map((p) => p.agentPubKey)
      // Placement checks a minute apart: nobody finds the new collection's shards by its own check
      // during the test, so each shard is ready only if a new shard is ready when first asked.
      for (const p of players)
        running.push(await withMemory(scenario, dir, p, () => live, { reconcileIntervalMs: 60_000 }))
      const [alice, bob, carol] = running as [MemoryPlayer, MemoryPlayer, MemoryPlayer]
      await alice.memory.create({
        name: 'instant',
        dimension: 8,
        metric: 'l2',
        shard_count: 8,
        replication: 2,
        embedding_model: 'none',
      })
      // Written at once: a holder the entry has not reached yet waits for it, then stores the writes.
      const docs = Array.from({ length: 400 }, (_, i) => ({
        id: `n${i}`,
        vector: Array.from({ length: 8 }, (_, d) => (d === i % 8 ? i : 0)),
      }))
      const written = await alice.memory.upsert('instant', docs)
      expect(written.shards).toHaveLength(8)
      expect(written.shards.every((s) => s.holders === 2 && s.written === 2)).toBe(true)
      // Bob and Carol query by name, so the entry has to have reached them; nothing waits for the shards.
      await scenario.dhtSync(players, 'memory_shards')
      for (const [from, i] of [
        [bob, 123],
        [carol, 377],
        [alice, 8],
      ] as const) {
        const answer = await from.memory.query('instant', { vector: docs[i]!.vector, k: 1 })
        expect(answer.shards_missing).toEqual([])
        expect(answer.shards_answered).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
        expect(answer.hits[0]?.id).toBe(`n${i}`)
      }
    })
  }, 120_000)

  it('a holder that comes back online is compared with its replica at once', async () => {
    await memoryScenario(2, async ({ scenario, players, dir, running }) => {
      const [alice, bob] = players.map((p) => p.agentPubKey) as [string, string]
      // Each one's view of who is online; periodic repair is 10 minutes away, so only a return repairs.
      const views = new Map([
        [alice, [alice, bob]],
        [bob, [alice, bob]],
      ])
      const repair = { intervalMs: 600_000, settleMs: 0 }
      for (const p of players)
        running.push(await withMemory(scenario, dir, p, () => views.get(p.agentPubKey) ?? [], { repair }))
      const [aliceMemory, bobMemory] = running.map((r) => r.memory) as [MemoryService, MemoryService]
      await aliceMemory.create({
        name: 'returns',
        dimension: 4,
        metric: 'l2',
        shard_count: 2,
        replication: 2,
        embedding_model: 'none',
      })
      await scenario.dhtSync(players, 'memory_shards')
      const doc = (i: number) => ({ id: `r${i}`, vector: [i, 1, 2, 3] })
      await aliceMemory.upsert('returns', [0, 1, 2, 3].map(doc))
      const digests = async (m: MemoryService) => (await m.show('returns')).shards.map((s) => s.here?.digest)
      // A placement check with both copies ready: Bob's periodic comparison with Alice is done for now.
      await bobMemory.reconcile()
      await bobMemory.reconcile()

      // Bob drops out of Alice's view (offline past the timeout) and she of his: her writes go to her alone.
      views.set(alice, [alice])
      views.set(bob, [bob])
      // Bob's placement check sees her gone (it runs every 200 ms; the second call is one that starts now).
      await bobMemory.reconcile()
      await bobMemory.reconcile()
      const written = await aliceMemory.upsert('returns', [4, 5, 6, 7, 8, 9].map(doc))
      expect(written.shards.every((s) => s.holders === 1)).toBe(true)
      await aliceMemory.delete('returns', ['r0'])
      expect(await digests(bobMemory)).not.toEqual(await digests(aliceMemory))

      views.set(alice, [alice, bob])
      views.set(bob, [alice, bob])
      await expect
        .poll(async () => digests(bobMemory), { timeout: 30_000, interval: 100 })
        .toEqual(await digests(aliceMemory))
      expect((await bobMemory.show('returns')).shards.reduce((n, s) => n + (s.here?.docs ?? 0), 0)).toBe(9)
    })
  }, 120_000)
})
