/**
 * Memory an idle daemon keeps after waves of large submits (issue 55, point 13): one `ripple up`, waves
 * of WAVE task submits of ~1 MiB each through `/api/tasks`, and the daemon's RSS (from /proc) after
 * each wave's rest. Before the chain store's recent rows were bounded by bytes, each payload written
 * stayed held (465 MB after one wave, ~1.8 GB after six); now RSS should settle after the first wave.
 * SUBMIT_MEMORY_WAVES and SUBMIT_MEMORY_REST_MS shorten a run.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SubmitTaskBody } from '../host/api/contract/index.ts'
import { isolatedNetwork } from '../tests/e2e/ripple-process.ts'
import { startDaemon, stopDaemons } from './daemon-api.ts'
import type { BenchReport } from './report.ts'

const WAVES = Number(process.env.SUBMIT_MEMORY_WAVES ?? 9)
const WAVE = 200
const AT_ONCE = 20
const REST_MS = Number(process.env.SUBMIT_MEMORY_REST_MS ?? 20_000)
const MESSAGE = 'x'.repeat(2 ** 20)

/** The resident set of a process, in MB, as the kernel counts it. */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) / 1024)
}

export default async function submitMemory(): Promise<BenchReport> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-submit-memory-'))
  const daemon = await startDaemon(
    await isolatedNetwork(root, 'bench-submit-memory'),
    join(root, 'peer'),
    'p',
  )
  const pid = daemon.process.child.pid!
  const rows: BenchReport['rows'] = [{ wave: 0, submitted: 0, rss_mb: await rssMb(pid) }]
  try {
    for (let wave = 1; wave <= WAVES; wave++) {
      for (let from = 0; from < WAVE; from += AT_ONCE) {
        await Promise.all(
          Array.from({ length: Math.min(AT_ONCE, WAVE - from) }, (_, i) => {
            const body: SubmitTaskBody = {
              kind: 'echo',
              input: { message: `${wave}-${from + i} ${MESSAGE}` },
              timeout_ms: 60_000,
            }
            return daemon.api.submitTask(body)
          }),
        )
      }
      await new Promise((resolve) => setTimeout(resolve, REST_MS))
      rows.push({ wave, submitted: wave * WAVE, rss_mb: await rssMb(pid) })
    }
  } catch (err) {
    // What the daemon said is what tells a crash from a refusal.
    console.error(`the daemon's log ends:\n${daemon.process.stderr().slice(-4000)}`)
    throw err
  } finally {
    await stopDaemons([daemon])
    await rm(root, { recursive: true, force: true })
  }
  const last = rows.at(-1)!
  return {
    name: 'submit-memory',
    rows,
    figures: {
      rss_after_first_wave_mb: Number(rows[1]?.rss_mb ?? 0),
      rss_after_last_wave_mb: Number(last.rss_mb),
    },
    note: `RSS of an idle daemon ${REST_MS / 1000} s after each wave of ${WAVE} submits of ~1 MiB (${AT_ONCE} at once) through /api/tasks`,
  }
}
