/**
 * Correctness under speed and churn: over a hundred tasks submitted at once from two requesters to two
 * workers, one of which is killed mid-burst (its scheduler and peer go down, posting nothing) while
 * a new worker joins.
 * Every task must reach exactly one accepted result; an input runs at most once on the peers that
 * stay up (a second run only replaces an attempt the killed peer took down with it).
 */
import { describe, expect, it } from 'vitest'
import { isTerminal, type SchedulerService, type TaskOrder } from '../../host/scheduler/scheduler-service.ts'
import { NO_REQUIREMENTS } from '../../zomes-bindings/index.ts'
import { runScenario } from './harness.ts'
import { type RunLog, type SchedulerHost, startSchedulerHost } from './scheduler-hosts.ts'

const PER_REQUESTER = 60

/** An echo task: its order, and its input (which only the requester and its assignees see). */
function echo(message: string): [TaskOrder, unknown] {
  const order: TaskOrder = {
    kind: 'echo',
    requirements: NO_REQUIREMENTS,
    // Long enough that only the killed worker's attempts run out on a loaded machine.
    lease_ms: 30_000,
    deadline: (Date.now() + 200_000) * 1000,
    max_attempts: 3,
    fan_out: 1,
  }
  return [order, { message, delay_ms: 200 }]
}

/** Resolves with the task's terminal status once its requester sees it end. */
function ended(scheduler: SchedulerService, hash: string): Promise<string> {
  return new Promise((resolve) => {
    const unwatch = scheduler.watch(hash, (event) => {
      if (event.type !== 'status' || !isTerminal(event.status)) return
      unwatch()
      resolve(event.status)
    })
  })
}

async function waitUntilAsync(timeoutMs: number, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
}

describe('a burst of tasks while a worker dies and another joins', { timeout: 300_000 }, () => {
  it('gives every task exactly one accepted result', async () => {
    await runScenario(async (scenario) => {
      const [alice, bob, carol, dave] = await scenario.addPlayers(4)
      await scenario.shareAllAgents()
      const log: RunLog = { runs: [] }
      const hosts: SchedulerHost[] = [
        await startSchedulerHost(alice!, { name: 'alice', workers: false, log }),
        await startSchedulerHost(bob!, { name: 'bob', workers: false, log }),
        await startSchedulerHost(carol!, { name: 'carol', log }),
        await startSchedulerHost(dave!, { name: 'dave', log }),
      ]
      try {
        const [aliceHost, bobHost, carolHost] = hosts as [SchedulerHost, SchedulerHost, SchedulerHost]
        const submitted = await Promise.all(
          [aliceHost, bobHost].flatMap((requester) =>
            Array.from({ length: PER_REQUESTER }, async (_, i) => {
              const message = `${requester.name}-${i}`
              const ref = await requester.scheduler.submit(...echo(message))
              const hash = ref.action_hash
              return { requester, hash, message, ended: ended(requester.scheduler, hash) }
            }),
          ),
        )
        // Killed once it is busy: attempts it holds die with it.
        await new Promise<void>((resolve) => {
          const check = setInterval(() => {
            if (log.runs.filter((r) => r.host === 'carol').length >= 10) {
              clearInterval(check)
              resolve()
            }
          }, 10)
        })
        const heldByCarol = carolHost.scheduler.queueDepth()
        await carolHost.stop()
        await carol!.shutdown()
        const erin = await scenario.addPlayer()
        hosts.push(await startSchedulerHost(erin, { name: 'erin', log }))

        const statuses = await Promise.all(submitted.map((s) => s.ended))
        expect(statuses.filter((s) => s !== 'done')).toEqual([])

        let reassigned = 0
        for (const { requester, hash, message } of submitted) {
          const view = await requester.scheduler.view(hash)
          const receipt = view.state.receipt!.entry
          expect(receipt.accepted).toBe(true)
          // Exactly one answer, and it is the one accepted.
          const ok = view.state.results.filter((r) => r.entry.status === 'ok')
          expect(ok.map((r) => r.action_hash)).toEqual([receipt.result])
          // The input lives with the requester alone: an answer that echoes it (a reassigned
          // attempt's too) is one whose runner was given it by the requester.
          expect(view.payloads.outputs[receipt.result]).toEqual({ message })
          if (view.state.assignments.length > 1) reassigned++
        }
        // Attempts the killed worker held were given to others after their lease.
        if (heldByCarol > 0) expect(reassigned).toBeGreaterThan(0)

        const survivors = new Set(['dave', 'erin'])
        const runsOnSurvivors = new Map<string, number>()
        for (const run of log.runs.filter((r) => survivors.has(r.host))) {
          const message = (run.input as { message: string }).message
          runsOnSurvivors.set(message, (runsOnSurvivors.get(message) ?? 0) + 1)
        }
        expect([...runsOnSurvivors.values()].filter((n) => n > 1)).toEqual([])

        // The newcomer catches up: it holds every task, finished.
        const notDoneOnErin = async () =>
          (
            await Promise.all(
              submitted.map((s) => erin.conductor.callZome('resource_mesh', 'get_task_state', s.hash)),
            )
          ).filter((s) => s?.status !== 'done').length
        await waitUntilAsync(30_000, async () => (await notDoneOnErin()) === 0)
        expect(await notDoneOnErin()).toBe(0)
      } finally {
        await Promise.all(hosts.map((h) => h.stop()))
      }
    })
  })
})
