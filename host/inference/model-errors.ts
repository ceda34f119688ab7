/** Errors of model loads and model processes, shared by the daemon side and the model process. */
import type { Failure } from '../interface/failure-kind.ts'

/** Thrown when llama.cpp refuses a file that passed the checks; carries llama.cpp's own reason. */
export class ModelLoadError extends Error {
  static override readonly name = 'ModelLoadError'
  // The file is at fault, not the daemon.
  readonly failureKind: Failure = 'invalid/unprocessable'
  constructor(name: string, llamaErrors: readonly string[], cause: unknown) {
    const reason = llamaErrors.find((line) => /error loading model:/.test(line)) ?? llamaErrors.at(-1)
    super(`llama.cpp failed to load model "${name}": ${reason ?? (cause as Error).message}`, { cause })
    this.name = 'ModelLoadError'
  }
}

/**
 * Thrown into the requests of a model whose process died under them: llama.cpp aborted (e.g.
 * GGML_ASSERT on a file that passed every check) or the process was killed. When the file was
 * quarantined the message names it by hash (`model file sha256:<hex>`), so a requester reading the
 * failed Result knows which file did it (`crashedModelFiles`).
 */
export class ModelCrashedError extends Error {
  static override readonly name = 'ModelCrashedError'
  constructor(
    readonly model: string,
    readonly sha256: string,
    readonly reason: string,
    readonly quarantined: boolean,
  ) {
    // Only a quarantined file is named by hash: that is what tells requesters to spare its copies.
    super(
      quarantined
        ? `model file sha256:${sha256} ("${model}") crashed llama.cpp: ${reason}; ` +
            'this peer quarantined the file and will not run it again'
        : `the process running model "${model}" ended: ${reason}`,
    )
    this.name = 'ModelCrashedError'
  }
}

const CRASHED_FILE = /model file sha256:([0-9a-f]{64}) \("[^"]*"\) crashed llama\.cpp/g

/** The model files a task's error texts say crashed llama.cpp (sha256 hex). */
export function crashedModelFiles(errors: Iterable<string | null>): Set<string> {
  const files = new Set<string>()
  for (const error of errors)
    for (const match of (error ?? '').matchAll(CRASHED_FILE)) files.add(match[1] ?? '')
  return files
}

/** An error a model process reported, kept under its own name (the API maps errors by name). */
export class ModelProcessError extends Error {
  constructor(name: string, message: string) {
    super(message)
    this.name = name
  }
}

/** Thrown when no model file has the name asked for. */
export class ModelNotFoundError extends Error {
  static override readonly name = 'ModelNotFoundError'
  readonly failureKind: Failure = 'not_found'
  constructor(
    name: string,
    readonly available: readonly string[],
  ) {
    super(
      `no model named "${name}" in the models directory` +
        (available.length > 0 ? ` (models: ${available.join(', ')})` : ' (it holds no usable model)'),
    )
    this.name = 'ModelNotFoundError'
  }

  get details() {
    return { available: this.available }
  }
}

/** Thrown when the model's file fails the checks made before any load (truncated, missing keys...). */
export class ModelUnusableError extends Error {
  static override readonly name = 'ModelUnusableError'
  readonly failureKind: Failure = 'invalid/unprocessable'
  constructor(
    name: string,
    readonly reason: string,
  ) {
    super(`model "${name}" cannot be loaded: ${reason}`)
    this.name = 'ModelUnusableError'
  }
}

/** Thrown when a model needs more memory than models may take here (`--model-memory`). */
export class ModelTooLargeError extends Error {
  static override readonly name = 'ModelTooLargeError'
  // Memory here can free up, or the model be split: a condition that changes, not a bad request.
  readonly failureKind: Failure = 'unavailable/no_room'
  /**
   * `holders`: what holds the memory when even unloading every idle model would not make room (the
   * busy ones are never unloaded), as `holdersText` says it; empty when nothing else is loaded.
   * `splitRefused`: why a split over the mesh could not serve it either, once one was tried.
   */
  constructor(
    readonly model: string,
    readonly need: number,
    readonly free: number,
    readonly holders = '',
    splitRefused: string | null = null,
  ) {
    const mib = (bytes: number) => `${Math.ceil(bytes / 1024 ** 2)} MiB`
    super(
      `model "${model}" needs about ${mib(need)}, models may take ${mib(free)} here (--model-memory)` +
        (holders === '' ? '' : `, held by ${holders}`) +
        (splitRefused === null
          ? ': `ripple models load --split` splits it over the mesh'
          : `; nor can a split serve it: ${splitRefused}`),
    )
    this.name = 'ModelTooLargeError'
  }

  /** The same refusal, once a split over the mesh was tried and could not serve the model either. */
  splitRefused(why: string): ModelTooLargeError {
    return new ModelTooLargeError(this.model, this.need, this.free, this.holders, why)
  }
}

/** Thrown when a task names no model and there is not exactly one it could mean. */
export class ModelRequiredError extends Error {
  static override readonly name = 'ModelRequiredError'
  constructor(candidates: readonly string[]) {
    super(
      candidates.length === 0
        ? 'no model is available on this peer'
        : `name a model: this peer has several (${candidates.join(', ')})`,
    )
    this.name = 'ModelRequiredError'
  }
}
