/**
 * Startup time and idle memory of one peer: spawns `ripple up` N times, each on a fresh data dir,
 * and measures the wall time from spawn to its `ripple: ready` line, then the resident memory of
 * the daemon process after it has idled a few seconds (VmRSS of the pid the daemon wrote into
 * daemon.json, i.e. the node process that runs it, not a wrapper). Run: `npm run bench startup`.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { readDaemonFile } from '../host/daemon/daemon-file.ts'
import { LOOPBACK_FLAGS, REPO_ROOT, RIPPLE_BIN } from '../tests/e2e/ripple-process.ts'
import { percentile, rssMb } from './measure.ts'
import type { BenchReport } from './report.ts'

const RUNS = 5
const IDLE_MS = 3000

interface Sample {
  ready_ms: number
  reported_ready_ms: number
  idle_rss_mb: number
}

async function sampleOnce(): Promise<Sample> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ripple-bench-startup-'))
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
    await rm(dataDir, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const samples: Sample[] = []
  for (let i = 0; i < RUNS; i++) samples.push(await sampleOnce())
  const ready = samples.map((s) => s.ready_ms)
  return {
    name: 'startup',
    rows: samples.map((s, i) => ({ run: i + 1, ...s })),
    figures: {
      ready_ms_median: percentile(ready, 50),
      ready_ms_p95: percentile(ready, 95),
      idle_rss_mb: percentile(
        samples.map((s) => s.idle_rss_mb),
        50,
      ),
    },
    note: `${RUNS} x \`ripple up\` (local, fresh data dir, --log-level warn): spawn -> "ripple: ready" wall ms; VmRSS of the daemon pid after ${IDLE_MS / 1000} s idle (median)`,
  }
}
