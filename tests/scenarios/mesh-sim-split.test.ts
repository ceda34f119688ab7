/**
 * The mesh simulation split over processes (bench/mesh-sim/split-host.ts, issue 56): 6 simulated peers
 * in 2 processes linked by TCP on loopback, this process their controller. A peer joins through one of
 * the other process's peers and holds a connection to it; a requester learns of a runner in the other
 * process (its capability written there, the record's copy here read by the requester's plan) and its
 * request is answered there; a peer's counters come back whole. Without the record's writes sent to
 * the other process, the requester's plan never names that runner.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { MeshPeer } from '../../bench/mesh-sim/mesh-peer.ts'
import { SimMesh } from '../../bench/mesh-sim/sim-mesh.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('a simulated mesh split over two processes', () => {
  let mesh: SimMesh | undefined
  afterAll(() => mesh?.stop())

  it('links its peers across processes and routes a request there', { timeout: 90_000 }, async () => {
    // Newcomers go to the process holding fewest: peers 0, 2, 4 in one, 1, 3, 5 in the other.
    mesh = await SimMesh.start({ size: 6, speedup: 5, processes: 2 })
    const [runner, second] = mesh.peers as [MeshPeer, MeshPeer]
    expect(runner.serves).toEqual(['m0'])
    // The second peer joined through the first, the only one up: its one bootstrap peer.
    expect(await second.connectedTo(runner.peerId)).toBe(true)

    // Peers 1, 3 and 5: the runner's is the other process.
    const requesters = mesh.requesters().filter((_, i) => i % 2 === 0)
    const deadline = performance.now() + 60_000
    let answered = false
    while (!answered && performance.now() < deadline) {
      const outcomes = await Promise.all(requesters.map((p) => p.request('m0', 5_000)))
      answered = outcomes.some((o) => o.ok)
      if (!answered) await sleep(500)
    }
    expect(answered).toBe(true)
    expect((await second.order('m0'))[0]).toBe(runner.agent)

    const counters = await second.counters()
    expect(counters.flows).toBeInstanceOf(Map)
    expect([...counters.flows.values()].some((f) => f.msgsOut > 0)).toBe(true)
  })
})
