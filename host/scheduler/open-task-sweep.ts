/**
 * The sweep of the open tasks, where the backend's events do not name every task that concerns this
 * host: a Holochain conductor (no events at all), or an embedded peer whose records are sharded (it
 * hears of what it holds, not of a far task). Every `everyMs` while `when()`, the open tasks are read
 * and each is handed to `found`.
 */
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { Logger } from '../log/logger.ts'

export interface OpenTaskSweep {
  conductor: Pick<ConductorPort, 'callZome'>
  everyMs: number
  when: () => boolean
  found: (taskHash: string) => void
  logger: Logger
}

/** Starts the sweep; returns what stops it. */
export function sweepOpenTasks(init: OpenTaskSweep): () => void {
  const sweep = async () => {
    try {
      const open = await init.conductor.callZome('resource_mesh', 'list_open_tasks', null)
      for (const task of open) init.found(task.action_hash)
    } catch (err) {
      init.logger.warn({ err }, 'reading the open tasks failed')
    }
  }
  const timer = setInterval(() => {
    if (init.when()) void sweep()
  }, init.everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
