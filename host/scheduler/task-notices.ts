/**
 * Where records are sharded a peer hears of a task only where it holds the task's records (its R
 * holders, its author) or while it sweeps the open tasks (a model server, a requester, a follower), so
 * a peer that could run a task and does neither (no model, tags of its own) never heard of it, nor of
 * being assigned it. The task's requester, which visits its open task anyway, tells them: the capable
 * members its walk found (known-nodes.ts, at most fan-out + spare) that have not claimed it, and each
 * current assignee until its Result is in, one signal to one agent each (a signal carries no record: the
 * notice only says to read the task from its holders). A record is told of once it is NOTICE_AFTER_MS
 * old, so that its pushes to the holders are in when it is read, and again every RETELL_MS while still
 * due (a push was slow, a signal lost): per open task at most fan-out + spare signals a period, none on
 * an idle mesh, whatever its size.
 */
import { z } from 'zod'
import { ActionHashB64Schema, currentAssignments, type TaskState } from '../../zomes-bindings/index.ts'
import type { ConductorPort, Signal } from '../interface/conductor-port.ts'
import type { Logger } from '../log/logger.ts'
import { isTerminal } from './task-watch.ts'

/** A notice is sent again this long after the last while it is still due. */
export const RETELL_MS = 5_000
/** A record is told of this long after it was written (its pushes to its holders under way till then). */
export const NOTICE_AFTER_MS = 500
/** Notices remembered (the oldest go first): enough for every open task's few. */
const REMEMBERED = 4096

/** Lenient, as every signal is; a release that does not know it ignores it (neither payload nor task). */
const TaskNoticeSchema = z.object({ type: z.literal('task-notice'), task: ActionHashB64Schema })

/** A notice due: to whom, and what it is about (the task while open, or the attempt assigned). */
export interface Notice {
  to: string
  about: string
}

/**
 * The notices due for an open task, as its requester `me` sees it: while it waits for claims (no slot
 * assigned or running), to each of its `capable` members (the walk's) that has not claimed it, about the
 * task; to each current assignee other than `me` whose lease runs and whose attempt has no Result yet,
 * about its assignment; each once its record is NOTICE_AFTER_MS old at `now` (microseconds).
 */
export function noticesDue(state: TaskState, capable: readonly string[], me: string, now: number): Notice[] {
  const written = (record: { timestamp: number }) => record.timestamp <= now - NOTICE_AFTER_MS * 1000
  if (isTerminal(state.status) || !written(state.task)) return []
  const task = state.task.action_hash
  const claimed = new Set(state.claims.map((c) => c.author))
  const resulted = new Set(state.results.map((r) => r.entry.assignment))
  const waiting = state.status === 'submitted' || state.status === 'claimed'
  const open = [...new Set(waiting ? capable : [])]
    .filter((agent) => agent !== me && !claimed.has(agent))
    .map((to) => ({ to, about: task }))
  const assigned = currentAssignments(state.assignments)
    .filter((a) => a.entry.assignee !== me && a.entry.lease_expires_at >= now)
    .filter((a) => !resulted.has(a.action_hash) && written(a))
    .map((a) => ({ to: a.entry.assignee, about: a.action_hash }))
  return [...open, ...assigned]
}

export interface TaskNoticesInit {
  conductor: Pick<ConductorPort, 'sendSignal'>
  /** A notice about `task` came: read it again and visit it. */
  onNotice: (task: string) => void
  logger: Logger
}

export class TaskNotices {
  readonly #init: TaskNoticesInit
  /** When each notice (`to about`) was last sent. */
  readonly #told = new Map<string, number>()

  constructor(init: TaskNoticesInit) {
    this.#init = init
  }

  /** Sends the notices of `task` due and not sent within RETELL_MS; one that fails is tried next time. */
  async tell(task: string, due: readonly Notice[], now = Date.now()): Promise<void> {
    const sends = due.map(async ({ to, about }) => {
      const key = `${to} ${about}`
      if (now - (this.#told.get(key) ?? -Infinity) < RETELL_MS) return
      try {
        await this.#init.conductor.sendSignal('resource_mesh', to, { type: 'task-notice', task })
        this.#told.delete(key)
        this.#told.set(key, now)
        if (this.#told.size > REMEMBERED) this.#told.delete(this.#told.keys().next().value!)
      } catch (err) {
        this.#init.logger.debug({ err, task, to }, 'telling a peer of a task failed')
      }
    })
    await Promise.all(sends)
  }

  /** Handles a notice; false when the signal is not one. */
  onSignal(signal: Signal): boolean {
    if (signal.dna !== 'resource_mesh') return false
    const parsed = TaskNoticeSchema.safeParse(signal.payload)
    if (!parsed.success) return false
    this.#init.onNotice(parsed.data.task)
    return true
  }
}
