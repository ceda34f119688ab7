/**
 * A peer's cost stays bounded as the mesh grows (issue 56, design 4e): 64 simulated peers in this
 * process (bench/mesh-sim: the daemon's own node, registry and routing over the in-memory transport,
 * under churn and a request load), and per peer fixed ceilings that a cost growing with the mesh
 * passes: its connections (a mesh where every peer holds every other holds 63 each) and its messages
 * and bytes a second (every runner's heartbeats to every peer, flooding). The ceilings are counts per
 * simulated second, not timings; the figures themselves are the bench's (`npm run bench mesh-sim`).
 */
import { describe, expect, it } from 'vitest'
import { sizeFigures } from '../../bench/mesh-sim/sim-report.ts'
import { runSimulation } from '../../bench/mesh-sim/sim-run.ts'

const PEERS = 64
/**
 * libp2p.max_connections' default (64), and the few libp2p lets open before it prunes the excess: no peer
 * holds more for long, however many there are.
 */
const MAX_CONNECTIONS = 68
/**
 * Mean connections a peer holds: its 16 kept neighbours, the directory's 20 closest peers (which
 * kad-dht keeps connected, mostly the same both ways) and the peers that chose it likewise; ~35
 * measured at 64 peers. A mesh where every peer holds every other holds 63 or more.
 */
const MEAN_CONNECTIONS = 44
/** Messages a second a peer sends and receives, all protocols, per simulated second (~22 measured). */
const MEAN_MSGS_PER_S = 45
/** Payload bytes a second a peer sends and receives. */
const MEAN_BYTES_PER_S = 20_000

describe('a simulated mesh of 64 peers', () => {
  it('keeps each peer under the per-peer ceilings', { timeout: 180_000 }, async () => {
    const run = await runSimulation({
      size: PEERS,
      speedup: 2,
      settleSimMs: 20_000,
      windowSimMs: 40_000,
      requestEverySimMs: 60_000,
    })
    const figures = sizeFigures(run)
    // The mesh formed and carried traffic (the ceilings below say nothing of a mesh that never did).
    expect(run.steady.length).toBeGreaterThan(PEERS / 2)
    expect(figures.connections).toBeGreaterThanOrEqual(2)
    expect(figures.msgsPerS).toBeGreaterThan(0)
    expect(figures.connectionsMax).toBeLessThanOrEqual(MAX_CONNECTIONS)
    expect(figures.connections).toBeLessThanOrEqual(MEAN_CONNECTIONS)
    expect(figures.msgsPerS).toBeLessThanOrEqual(MEAN_MSGS_PER_S)
    expect(figures.bytesPerS).toBeLessThanOrEqual(MEAN_BYTES_PER_S)
  })
})
