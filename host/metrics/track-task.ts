import type { SchedulerPort } from '../scheduler/scheduler-port.ts'
import { isTerminal } from '../scheduler/scheduler-service.ts'
import type { MetricsPort } from './metrics-port.ts'

/** Follows a task submitted here until it ends, then gives its final state to the metrics. */
export function trackTask(
  scheduler: Pick<SchedulerPort, 'watch' | 'view'>,
  metrics: Pick<MetricsPort, 'taskEnded'>,
  hash: string,
  onError: (err: unknown) => void,
): void {
  let ended = false
  const unwatch = scheduler.watch(hash, (event) => {
    if (ended || event.type !== 'status' || !isTerminal(event.status)) return
    ended = true
    const endedAt = Date.now()
    // The watch may call back before `unwatch` is assigned (with a task that already ended).
    queueMicrotask(() => unwatch())
    scheduler
      .view(hash)
      .then((view) => metrics.taskEnded(view.state, endedAt))
      .catch(onError)
  })
}
