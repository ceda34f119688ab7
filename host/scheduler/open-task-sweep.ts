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

/** What a sharded peer's sweep would be for here. */
export interface SweepReasons {
  /** Models this host serves; null while it has not advertised (not known: it sweeps). */
  models: number | null
  /** Whether a task this host submitted is open (its claims are held at the task's holders). */
  ownOpen: boolean
  /** Tasks a caller watches here, and attempts running here. */
  following: number
}

/**
 * Whether a sharded peer sweeps: only where a far task may concern it. A task that needs a model is
 * run only by a host serving one; one that needs none (echo, sha256) is heard of by its R holders as
 * it is stored, and they claim it, and a capable peer that holds none of it (its tags) is told of it
 * and of its assignment by its requester (task-notices.ts); a requester looks for its own task's
 * claims, a caller for the task it watches. A bystander (no model, no task of its own) does not sweep: each sweep reads the
 * open-tasks anchor from its holders, and every peer doing so every 2 s was most of an idle sharded
 * mesh's record/1.0.0 traffic.
 */
export function sweepNeeded(reasons: SweepReasons): boolean {
  return reasons.models !== 0 || reasons.ownOpen || reasons.following > 0
}

/** A scheduler's sweep, given what it knows of itself. */
export interface SchedulerSweep extends Omit<OpenTaskSweep, 'when'> {
  /** Whether stored-records events wake the scheduler; without them it always sweeps. */
  onRecordsStored?: unknown
  /** With them, whether records are sharded now (it may miss far tasks); none: it never sweeps. */
  polling?: () => boolean
  reasons: () => SweepReasons
}

/**
 * Whether a listing reads the open tasks itself: records sharded, and no sweep to find the far ones
 * (a bystander). What a person lists is the mesh's open tasks, wherever the peer is.
 */
export function listReadsOpen(
  init: Pick<SchedulerSweep, 'onRecordsStored' | 'polling' | 'reasons'>,
): boolean {
  if (init.onRecordsStored === undefined || init.polling === undefined) return false
  return !sweepNeeded(init.reasons()) && init.polling()
}

/** Starts the sweep a scheduler needs, if any; returns what stops it. */
export function schedulerSweep(init: SchedulerSweep): (() => void) | null {
  const { polling } = init
  if (init.onRecordsStored === undefined) return sweepOpenTasks({ ...init, when: () => true })
  if (polling === undefined) return null
  // The reasons first: asking whether records are sharded counts the members.
  return sweepOpenTasks({ ...init, when: () => sweepNeeded(init.reasons()) && polling() })
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
