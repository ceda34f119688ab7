/**
 * Which worker runs which task kind on this host. The scheduler claims only kinds found here; the
 * built-ins are always present, other modules (inference, storage, memory) register theirs at start.
 */
import { echoWorker } from './echo.ts'
import { sha256Worker } from './sha256.ts'
import type { Worker } from './worker.ts'
import type { WorkersPort } from './workers-port.ts'

/** Thrown when two workers are registered for one kind. */
export class DuplicateWorkerError extends Error {
  static override readonly name = 'DuplicateWorkerError'
  constructor(kind: string) {
    super(`a worker for task kind "${kind}" is already registered`)
    this.name = 'DuplicateWorkerError'
  }
}

export class WorkerRegistry implements WorkersPort {
  readonly #workers = new Map<string, Worker>()

  /** A registry holding the built-ins (`echo`, `sha256`) and `extra`. */
  static withBuiltins(extra: readonly Worker[] = []): WorkerRegistry {
    const registry = new WorkerRegistry()
    for (const worker of [echoWorker, sha256Worker, ...extra]) registry.register(worker)
    return registry
  }

  register(worker: Worker): void {
    if (this.#workers.has(worker.kind)) throw new DuplicateWorkerError(worker.kind)
    this.#workers.set(worker.kind, worker)
  }

  get(kind: string): Worker | undefined {
    return this.#workers.get(kind)
  }

  kinds(): string[] {
    return [...this.#workers.keys()].sort()
  }
}
