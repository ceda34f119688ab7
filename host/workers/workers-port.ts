/** What the rest of the node asks of this host's workers: the one that runs a task kind, if any. */
import type { Worker } from './worker.ts'

export interface WorkersPort {
  get(kind: string): Worker | undefined
}
