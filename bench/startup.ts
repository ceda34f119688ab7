/**
 * Startup time and idle memory of one peer: spawns `ripple up` N times, each on a fresh data dir,
 * and measures the wall time from spawn to its `ripple: ready` line, then the resident memory of
 * the daemon process after it has idled a few seconds (VmRSS of the pid the daemon wrote into
 * daemon.json, i.e. the node process that runs it, not a wrapper). Then the same on a data dir whose
 * agent already has a 100,000-action chain (written once, before the runs): start-up verifies only
 * what its chain checkpoint does not vouch for. Run: `npm run bench startup`.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createEmbeddedConductor } from '../host/conductor/embedded/index.ts'
import { loadNetworkConfig } from '../host/config/network-config.ts'
import { readDaemonFile } from '../host/daemon/daemon-file.ts'
import { LOOPBACK_FLAGS, REPO_ROOT, RIPPLE_BIN } from '../tests/e2e/ripple-process.ts'
import { percentile, rssMb } from './measure.ts'
import type { BenchReport } from './report.ts'

const RUNS = 5
const IDLE_MS = 3000
const LONG_CHAIN_ACTIONS = 100_000
const LONG_CHAIN_RUNS = 3
// Actions per zome call while writing the long chain (one transaction each).
const WRITE_BATCH = 5_000

interface Sample {
  ready_ms: number
  reported_ready_ms: number
  idle_rss_mb: number
}

async function sampleOnce(given?: string): Promise<Sample> {
  const dataDir = given ?? (await mkdtemp(join(tmpdir(), 'ripple-bench-startup-')))
  const spawnedAt = performance.now()
  const child = spawn(
    process.execPath,
    [RIPPLE_BIN, 'up', ...LOOPBACK_FLAGS, '--data-dir', dataDir, '--api-port', '0', '--log-level', 'warn'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  try {
    const reported = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const match = /ripple: ready in (\d+) ms/.exec(out)
        if (match) resolve(Number(match[1]))
      })
      void exited.then((code) => reject(new Error(`ripple up exited with ${code} before ready:\n${out}`)))
    })
    const readyMs = performance.now() - spawnedAt
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
    const file = await readDaemonFile(dataDir)
    if (!file) throw new Error(`no daemon.json in ${dataDir}`)
    return { ready_ms: Math.round(readyMs), reported_ready_ms: reported, idle_rss_mb: await rssMb(file.pid) }
  } finally {
    child.kill('SIGTERM')
    await exited
    if (given === undefined) await rm(dataDir, { recursive: true, force: true })
  }
}

/**
 * A data dir whose agent has `actions` actions on its policy_store chain (Decision entries, the
 * audit trail, which nothing reads at start), written through the embedded conductor as a daemon
 * would write them: validated by the rules, signed, hash-linked.
 */
async function dataDirWithLongChain(
  actions: number,
): Promise<{ dataDir: string; actions: number; writeMs: number }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ripple-bench-startup-long-'))
  const startedAt = performance.now()
  const conductor = await createEmbeddedConductor({ dataDir, network: await loadNetworkConfig('local') })
  try {
    const cell = conductor.cell('policy_store')
    const subject = conductor.agentPubKey
    for (let written = 0; written < actions; written += WRITE_BATCH) {
      await cell.call((hdk) => {
        for (let i = written; i < Math.min(actions, written + WRITE_BATCH); i++) {
          hdk.create_entry('Decision', {
            subject,
            action: 'claim',
            resource: `Task::"bench-${i}"`,
            allowed: true,
            policy_ids: [],
            reason: 'startup benchmark',
            context: {},
          })
        }
      })
    }
    return { dataDir, actions: cell.chain.head.seq + 1, writeMs: Math.round(performance.now() - startedAt) }
  } finally {
    await conductor.close()
  }
}

export default async function run(): Promise<BenchReport> {
  const samples: Sample[] = []
  for (let i = 0; i < RUNS; i++) samples.push(await sampleOnce())
  const ready = samples.map((s) => s.ready_ms)
  const long = await dataDirWithLongChain(LONG_CHAIN_ACTIONS)
  const longSamples: Sample[] = []
  try {
    for (let i = 0; i < LONG_CHAIN_RUNS; i++) longSamples.push(await sampleOnce(long.dataDir))
  } finally {
    await rm(long.dataDir, { recursive: true, force: true })
  }
  return {
    name: 'startup',
    rows: [
      ...samples.map((s, i) => ({ run: i + 1, chain_actions: 'fresh', ...s })),
      ...longSamples.map((s, i) => ({ run: i + 1, chain_actions: long.actions, ...s })),
    ],
    figures: {
      ready_ms_median: percentile(ready, 50),
      ready_ms_p95: percentile(ready, 95),
      idle_rss_mb: percentile(
        samples.map((s) => s.idle_rss_mb),
        50,
      ),
      long_chain_actions: long.actions,
      long_chain_write_ms: long.writeMs,
      long_chain_ready_ms_median: percentile(
        longSamples.map((s) => s.ready_ms),
        50,
      ),
    },
    note:
      `${RUNS} x \`ripple up\` (local, fresh data dir, --log-level warn): spawn -> "ripple: ready" wall ms; VmRSS of the daemon pid after ${IDLE_MS / 1000} s idle (median); ` +
      `then ${LONG_CHAIN_RUNS} x on one data dir whose policy_store chain holds ${long.actions} actions (restarted each time)`,
  }
}
