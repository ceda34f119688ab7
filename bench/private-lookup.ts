/**
 * A private look-up on a long chain: `get_payload` (through the conductor's zome path, as the scheduler
 * calls it) for a task payload kept 100 and 100,000 payloads back, and for one never kept; and what
 * indexing that chain costs when a data dir from before the entry-key index opens.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import {
  CONDUCTOR_DB_FILE,
  createEmbeddedConductor,
  type EmbeddedConductor,
} from '../host/conductor/embedded/index.ts'
import type { NetworkConfig } from '../host/config/network-schema.ts'
import { payloadOf, writePayloads } from '../tests/unit/conductor/fixtures/long-chain.ts'
import { tempDir } from '../tests/unit/conductor/fixtures/test-cell.ts'
import type { BenchReport } from './report.ts'

const LOOKUPS = 2_000
const WARMUP = 200

const network: NetworkConfig = {
  name: 'bench',
  seed: `private-lookup-${process.pid}`,
  backend: 'embedded',
  dna_properties: {},
  heartbeat: { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 10_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits))

/** Mean and p95 in µs of `get_payload(hash)`, checking each answer is found (or not) as expected. */
async function timeLookups(conductor: EmbeddedConductor, hash: string, found: boolean) {
  const samples = new Float64Array(LOOKUPS)
  for (let i = -WARMUP; i < LOOKUPS; i++) {
    const t0 = performance.now()
    const payload = await conductor.callZome('resource_mesh', 'get_payload', hash)
    if (i >= 0) samples[i] = (performance.now() - t0) * 1000
    if ((payload !== null) !== found) throw new Error(`get_payload ${hash}: expected found=${found}`)
  }
  const mean = samples.reduce((a, b) => a + b, 0) / LOOKUPS
  const at = (q: number) => round(samples[Math.floor(LOOKUPS * q)]!)
  samples.sort()
  return { mean_us: round(mean), p50_us: at(0.5), p95_us: at(0.95) }
}

export default async function run(): Promise<BenchReport> {
  const dataDir = await tempDir()
  try {
    let conductor = await createEmbeddedConductor({ dataDir, network })
    const far = payloadOf('kept 100,000 payloads back')
    const near = payloadOf('kept 100 payloads back')
    await conductor.callZome('resource_mesh', 'keep_payload', far)
    await writePayloads(conductor, 99_899, 'between')
    await conductor.callZome('resource_mesh', 'keep_payload', near)
    await writePayloads(conductor, 100, 'after')
    const chainLength = conductor.cell('resource_mesh').chain.head.seq + 1
    const cases: [string, string, boolean][] = [
      ['100 back', near.hash, true],
      ['100,000 back', far.hash, true],
      ['never kept (miss)', payloadOf('never kept').hash, false],
    ]
    const rows: BenchReport['rows'] = []
    for (const [label, hash, found] of cases)
      rows.push({ lookup: label, ...(await timeLookups(conductor, hash, found)) })

    await conductor.close()
    let t0 = performance.now()
    conductor = await createEmbeddedConductor({ dataDir, network })
    const reopenMs = performance.now() - t0
    // A data dir from before the index: its chain is indexed once, when it opens.
    await conductor.close()
    const db = new Database(join(dataDir, CONDUCTOR_DB_FILE))
    db.exec('DROP TABLE entry_keys; DROP TABLE entry_key_chains')
    db.close()
    t0 = performance.now()
    conductor = await createEmbeddedConductor({ dataDir, network })
    const reindexMs = performance.now() - t0
    const afterReopen = await timeLookups(conductor, far.hash, true)
    await conductor.close()
    rows.push({ lookup: '100,000 back, after indexing an old data dir', ...afterReopen })
    return {
      name: 'private-lookup',
      rows,
      figures: {
        chain_length: chainLength,
        near_mean_us: rows[0]!.mean_us as number,
        far_mean_us: rows[1]!.mean_us as number,
        far_p50_us: rows[1]!.p50_us as number,
        far_p95_us: rows[1]!.p95_us as number,
        miss_mean_us: rows[2]!.mean_us as number,
        reopen_ms: round(reopenMs),
        reopen_with_indexing_ms: round(reindexMs),
      },
      note: `get_payload through EmbeddedConductor.callZome on a resource_mesh chain of ${chainLength} actions (SQLite on disk), ${LOOKUPS} look-ups each after ${WARMUP} warm-up; reopen = opening that data dir again; with indexing = one whose entry-key index tables were dropped (a store from before the index: built from the chain at open)`,
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}
