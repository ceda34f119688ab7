/**
 * The progress of every long operation (a model load or pull, an artifact's import or fetch), in one
 * shape, and the options each of them takes: whoever shows progress handles one kind of event, and
 * can stop any of them. Imports nothing: the API client and the browser dashboard load it too.
 */

/** What the operation is doing: llama.cpp reading weights, a download, an import, a fetch, a write. */
export type ProgressStage = 'load' | 'download' | 'import' | 'fetch' | 'write'

/** What `done` and `total` count: llama.cpp says how far a load is in percent only; writes count documents. */
export type ProgressUnit = 'bytes' | 'percent' | 'items'

export interface Progress {
  stage: ProgressStage
  done: number
  /** Null while it is not known (content read from a stream, a server that announces no size). */
  total: number | null
  unit: ProgressUnit
}

export interface LongOperationOptions {
  /** Stops the operation: it cleans up after itself and rejects with the signal's reason. */
  signal?: AbortSignal
  onProgress?: (progress: Progress) => void
}

/** How far it is, 0..1; null when the total is not known. */
export function progressFraction({ done, total }: Progress): number | null {
  if (total === null) return null
  return total > 0 ? Math.min(1, done / total) : 0
}
