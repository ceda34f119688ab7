/**
 * Propagation latency between `ripple up` processes: N = 3 and 10 daemons on 127.0.0.1 (mDNS pinned to
 * loopback, a network seed of their own), each a separate Node process with its own data dir. Daemons
 * take turns writing (an agent_registry capability update through the API); each write is timed from
 * just before the API call on the writer until every other daemon answers
 * GET /api/records/:hash/wait (stored, verified and validated there). The wait requests go out once the
 * write returns, so every figure includes the writer's own API call and one HTTP round trip on each
 * reader: an upper bound on propagation. Also the idle RSS of each daemon process.
 * Run: `npm run bench propagation-processes`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isolatedNetwork } from '../tests/e2e/ripple-process.ts'
import { type Daemon, startDaemon, stopDaemons } from './daemon-api.ts'
import { percentile, round, rssMb, sleep, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const SIZES = [3, 10]
const WRITES = 30
const GAP_MS = 100
const WAIT_TIMEOUT_MS = 10_000

async function startDaemons(count: number, root: string): Promise<Daemon[]> {
  const networkFile = await isolatedNetwork(root, 'bench-processes')
  // Started three at a time: ten at once on two cores only makes each start slower.
  const daemons: Daemon[] = []
  for (let i = 0; i < count; i += 3) {
    const batch = Array.from({ length: Math.min(3, count - i) }, (_, j) => i + j)
    daemons.push(
      ...(await Promise.all(batch.map((n) => startDaemon(networkFile, join(root, `peer-${n}`), `p${n}`)))),
    )
  }
  return daemons
}

async function measure(count: number) {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-processes-'))
  const setupStart = performance.now()
  const daemons = await startDaemons(count, root)
  try {
    await waitFor(
      `${count} daemons to see each other online`,
      async () => {
        const views = await Promise.all(daemons.map((d) => d.api.peers()))
        return views.every((v) => v.peers.filter((p) => p.status === 'online').length === count)
      },
      120_000,
    )
    const setupMs = performance.now() - setupStart
    const latencies: number[] = []
    let lost = 0
    for (let w = 0; w < WRITES; w++) {
      const writer = daemons[w % count]!
      const { capability } = await writer.api.status()
      const started = performance.now()
      const ref = await writer.api.callZome('agent_registry', 'advertise_capability', {
        ...capability,
        tags: [`bench-${w}`],
      })
      const readers = daemons.filter((d) => d !== writer)
      const arrivals = await Promise.all(
        readers.map(async (reader) => {
          const res = await reader.api.waitForRecord(ref.action_hash, { timeoutMs: WAIT_TIMEOUT_MS })
          return res.stored ? performance.now() - started : null
        }),
      )
      for (const ms of arrivals) {
        if (ms === null) lost++
        else latencies.push(ms)
      }
      await sleep(GAP_MS)
    }
    await sleep(3_000)
    const statuses = await Promise.all(daemons.map((d) => d.api.status()))
    const rss = await Promise.all(statuses.map((s) => rssMb(s.pid)))
    return {
      processes: count,
      setup_s: round(setupMs / 1000),
      deliveries: latencies.length,
      lost,
      median_ms: round(percentile(latencies, 50)),
      p95_ms: round(percentile(latencies, 95)),
      max_ms: round(Math.max(...latencies)),
      idle_rss_mb_median: round(percentile(rss, 50)),
    }
  } finally {
    await stopDaemons(daemons)
    await rm(root, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const rows = []
  for (const count of SIZES) rows.push(await measure(count))
  const figures: Record<string, number> = {}
  for (const r of rows) {
    figures[`p${r.processes}_median_ms`] = r.median_ms
    figures[`p${r.processes}_p95_ms`] = r.p95_ms
    figures[`p${r.processes}_idle_rss_mb`] = r.idle_rss_mb_median
  }
  return {
    name: 'propagation-processes',
    rows,
    figures,
    note: `${WRITES} capability updates through the API, writers in turn; API call on the writer -> stored and valid on each other daemon (GET /api/records/:hash/wait); ripple up processes on 127.0.0.1`,
  }
}
