/** What the scheduler throws at its callers, each saying what kind of failure it is. */
import type { Failure } from '../interface/failure-kind.ts'

/** Thrown when a task hash names no task this host holds. */
export class TaskNotFoundError extends Error {
  static override readonly name = 'TaskNotFoundError'
  readonly failureKind: Failure = 'not_found'
  constructor(hash: string) {
    super(`no task ${hash} is known here (a task submitted elsewhere may not have reached this peer yet)`)
    this.name = 'TaskNotFoundError'
  }
}

/** Thrown when someone other than a task's author tries to cancel it. */
export class NotTaskAuthorError extends Error {
  static override readonly name = 'NotTaskAuthorError'
  readonly failureKind: Failure = 'forbidden'
  constructor(hash: string, author: string) {
    super(`only the task's author ${author} may cancel task ${hash}`)
    this.name = 'NotTaskAuthorError'
  }
}
