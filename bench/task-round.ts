/**
 * The task round's throughput between processes: 3 `ripple up` daemons on 127.0.0.1, every one
 * requester and `echo` worker; 200 echo tasks submitted at once, spread over the daemons through their
 * APIs (POST /api/tasks, then the task's event stream to its end), rounds in a row on the same mesh;
 * tasks per second from the first submit to the last accepted receipt, the median of the rounds.
 * A task that did not end done, or ran more than once (more than one Result), is counted: both must
 * be 0. Run: `npm run bench task-round` (RIPPLE_BENCH_TASK_ROUNDS=n for n rounds, 3 by default;
 * RIPPLE_BENCH_PROFILE=1 prints each daemon's top functions over the rounds, cpu-profile.ts, and
 * RIPPLE_BENCH_PROFILE_DIR=dir writes their whole profiles there as .cpuprofile files).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { isolatedNetwork } from '../tests/e2e/ripple-process.ts'
import { inspector, type Profile, printTop } from './cpu-profile.ts'
import { type Daemon, startDaemon, stopDaemons } from './daemon-api.ts'
import { median, ownCpuMs, round, waitFor } from './measure.ts'
import type { BenchReport } from './report.ts'

const PROCESSES = 3
const TASKS = 200
const ROUNDS = Number(process.env.RIPPLE_BENCH_TASK_ROUNDS ?? 3)
const TIMEOUT_MS = 180_000
const PROFILE = process.env.RIPPLE_BENCH_PROFILE === '1'
/** Where each daemon's whole profile is written too (for DevTools), when set. */
const PROFILE_DIR = process.env.RIPPLE_BENCH_PROFILE_DIR
const root = await mkdtemp(join(tmpdir(), 'ripple-bench-task-round-'))
const dataDirOf = (n: number) => join(root, `peer-${n}`)

/** The sum over the daemons of a /metrics counter (every label set). */
async function counter(daemons: readonly Daemon[], name: string): Promise<number> {
  let total = 0
  for (const [i, d] of daemons.entries()) {
    const url = /^ripple: api (\S+)$/m.exec(d.process.stdout())?.[1] ?? ''
    const token = (await readFile(join(dataDirOf(i), 'api-token'), 'utf8')).trim()
    const text = await (
      await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    ).text()
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) total += Number(m[1])
  }
  return total
}

const cpuOf = async (daemons: readonly Daemon[]) =>
  (await Promise.all(daemons.map((d) => ownCpuMs(d.process.child.pid ?? 0)))).reduce((a, b) => a + b, 0)

/**
 * One round: every task submitted at once; tasks per second, those not done once, and per task the
 * daemons' CPU (all three summed, until the last task ended) and the actions they signed.
 */
async function round1(daemons: readonly Daemon[], label: string) {
  const cpuBefore = await cpuOf(daemons)
  const actionsBefore = await counter(daemons, 'ripple_chain_actions')
  const receivedBefore = await counter(daemons, 'ripple_ops_received_total')
  const storedBefore = await counter(daemons, 'ripple_ops_stored_total')
  const startedAt = performance.now()
  const outcomes = await Promise.all(
    Array.from({ length: TASKS }, async (_, i) => {
      const daemon = daemons[i % daemons.length]!
      const input = { message: `${label}-${i}` }
      const ref = await daemon.api.submitTask({ kind: 'echo', input, timeout_ms: TIMEOUT_MS })
      const view = await daemon.api.followTask(ref.action_hash)
      return { done: view.state.status === 'done', results: view.state.results.length }
    }),
  )
  const seconds = (performance.now() - startedAt) / 1000
  const cpuMs = (await cpuOf(daemons)) - cpuBefore
  return {
    tasksPerS: TASKS / seconds,
    cpuMsPerTask: cpuMs / TASKS,
    actionsPerTask: ((await counter(daemons, 'ripple_chain_actions')) - actionsBefore) / TASKS,
    receivedPerTask: ((await counter(daemons, 'ripple_ops_received_total')) - receivedBefore) / TASKS,
    storedPerTask: ((await counter(daemons, 'ripple_ops_stored_total')) - storedBefore) / TASKS,
    notDone: outcomes.filter((o) => !o.done).length,
    double: outcomes.filter((o) => o.results > 1).length,
  }
}

export default async function run(): Promise<BenchReport> {
  const networkFile = await isolatedNetwork(root, 'bench-task-round')
  const daemons: Daemon[] = []
  try {
    // The inspector on, for the profile only: the daemons inherit this process's environment.
    if (PROFILE) process.env.NODE_OPTIONS = '--inspect=127.0.0.1:0'
    for (let n = 0; n < PROCESSES; n++) daemons.push(await startDaemon(networkFile, dataDirOf(n), `p${n}`))
    if (PROFILE) delete process.env.NODE_OPTIONS
    await waitFor(
      `${PROCESSES} daemons to see each other online`,
      async () => {
        const views = await Promise.all(daemons.map((d) => d.api.peers()))
        return views.every((v) => v.peers.filter((p) => p.status === 'online').length === PROCESSES)
      },
      120_000,
    )
    const sessions = PROFILE ? await Promise.all(daemons.map((d) => inspector(d.process.stderr))) : []
    for (const { call } of sessions) {
      await call('Profiler.enable')
      await call('Profiler.setSamplingInterval', { interval: 500 })
      await call('Profiler.start')
    }
    const rounds = []
    for (let r = 0; r < ROUNDS; r++) {
      rounds.push(await round1(daemons, `r${r}`))
      const last = rounds.at(-1)!
      process.stderr.write(
        `bench: round ${r + 1}: ${round(last.tasksPerS)} tasks/s, ${round(last.cpuMsPerTask, 2)} ms CPU and ` +
          `${round(last.actionsPerTask, 2)} actions a task; ops received ${round(last.receivedPerTask, 2)}, ` +
          `stored ${round(last.storedPerTask, 2)} a task (3 daemons)\n`,
      )
    }
    for (const [i, { call, close }] of sessions.entries()) {
      const { profile } = (await call('Profiler.stop')) as { profile: Profile }
      close()
      printTop(`daemon ${i}; per task submitted to all`, profile, TASKS * ROUNDS, 15)
      if (PROFILE_DIR) await writeFile(join(PROFILE_DIR, `daemon-${i}.cpuprofile`), JSON.stringify(profile))
    }
    const rates = rounds.map((r) => round(r.tasksPerS))
    const figures = {
      processes: PROCESSES,
      tasks: TASKS,
      tasks_per_s: median(rates),
      cpu_ms_per_task: round(median(rounds.map((r) => r.cpuMsPerTask)), 2),
      actions_per_task: round(median(rounds.map((r) => r.actionsPerTask)), 2),
      not_done: rounds.reduce((s, r) => s + r.notDone, 0),
      double_executions: rounds.reduce((s, r) => s + r.double, 0),
      load_average_1m: round(loadavg()[0] ?? 0),
    }
    return {
      name: 'task-round',
      rows: rounds.map((r, i) => ({
        round: i + 1,
        'tasks/s': round(r.tasksPerS),
        'CPU ms/task (3 daemons)': round(r.cpuMsPerTask, 2),
        'actions/task': round(r.actionsPerTask, 2),
      })),
      figures,
      note:
        `${PROCESSES} ripple up processes on 127.0.0.1, each requester and echo worker; ${TASKS} echo tasks ` +
        `submitted at once spread over them (POST /api/tasks, then the event stream to the task's end), ` +
        `${ROUNDS} rounds on one mesh: median ${figures.tasks_per_s} tasks/s, ${figures.cpu_ms_per_task} ms of the ` +
        `daemons' CPU (utime+stime, all three) and ${figures.actions_per_task} signed actions a task; not done ${figures.not_done}, ` +
        `run twice ${figures.double_executions}; load average ${figures.load_average_1m}`,
    }
  } finally {
    await stopDaemons(daemons)
    await rm(root, { recursive: true, force: true, maxRetries: 5 })
  }
}
