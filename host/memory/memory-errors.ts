/** Errors of the shared memory. Each says its kind, which each edge answers; `field` names what was wrong. */
import type { Failure } from '../interface/failure-kind.ts'

/** Thrown when a write or query does not fit its collection (a 400 naming the field). */
export class InvalidMemoryInputError extends Error {
  static override readonly name = 'InvalidMemoryInputError'
  readonly failureKind: Failure = 'invalid'
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'InvalidMemoryInputError'
  }

  get details() {
    return { field: this.field }
  }
}

/** Thrown when no collection has the name asked for (404). */
export class UnknownCollectionError extends Error {
  static override readonly name = 'UnknownCollectionError'
  readonly failureKind: Failure = 'not_found'
  readonly field = 'collection'
  readonly details = { field: this.field }
  constructor(readonly collection: string) {
    super(`no collection is named "${collection}"`)
    this.name = 'UnknownCollectionError'
  }
}

/** Thrown when a collection of that name exists already (409). */
export class CollectionExistsError extends Error {
  static override readonly name = 'CollectionExistsError'
  readonly failureKind: Failure = 'conflict'
  readonly field = 'name'
  readonly details = { field: this.field }
  constructor(readonly collection: string) {
    super(`a collection named "${collection}" exists already`)
    this.name = 'CollectionExistsError'
  }
}

/** Thrown when a shard has no holder that could take a write (503): nothing of the write was kept there. */
export class ShardUnavailableError extends Error {
  static override readonly name = 'ShardUnavailableError'
  readonly failureKind: Failure = 'unavailable'
  constructor(
    readonly shard: number,
    reason: string,
  ) {
    super(`shard ${shard} has no holder that took the write (${reason})`)
    this.name = 'ShardUnavailableError'
  }

  get details() {
    return { shard: this.shard }
  }
}

/** Thrown when a new collection's shards would have no holder: no live peer advertises memory room (503). */
export class NoMemoryRoomError extends Error {
  static override readonly name = 'NoMemoryRoomError'
  readonly failureKind: Failure = 'unavailable'
  constructor(
    readonly collection: string,
    readonly unplaced: readonly number[],
  ) {
    super(
      `collection "${collection}" cannot be placed: no live peer has memory room for shard(s) ${unplaced.join(', ')} (peers give the shared memory room with \`ripple up --memory-max-size\`)`,
    )
    this.name = 'NoMemoryRoomError'
  }

  get details() {
    return { unplaced: this.unplaced }
  }
}

/** Answered by a holder asked about a shard it does not serve yet (still catching up, or not its own). */
export class ShardNotReadyError extends Error {
  static override readonly name = 'ShardNotReadyError'
  constructor(collection: string, shard: number) {
    super(`shard ${shard} of ${collection} is not served here (yet)`)
    this.name = 'ShardNotReadyError'
  }
}

/** Thrown when the collection's model name now embeds with another file than its vectors came from (409). */
export class EmbeddingModelChangedError extends Error {
  static override readonly name = 'EmbeddingModelChangedError'
  readonly failureKind: Failure = 'conflict'
  constructor(
    readonly field: string,
    model: string,
    kept: string,
    got: string,
  ) {
    super(
      `model "${model}" embedded with file ${got.slice(0, 12)}…, but this collection's vectors come from ${kept.slice(0, 12)}…: vectors of two model files cannot be compared`,
    )
    this.name = 'EmbeddingModelChangedError'
  }

  get details() {
    return { field: this.field }
  }
}

/** No block of a shard's snapshot arrived for a while: its holders are gone or unreachable. */
export class SnapshotUnavailableError extends Error {
  static override readonly name = 'SnapshotUnavailableError'
  constructor(cid: string, idleMs: number) {
    super(`snapshot ${cid}: no block arrived in ${idleMs / 1000} s`)
    this.name = 'SnapshotUnavailableError'
  }
}

/**
 * Thrown when a collection's embedding model could not embed a text: no peer has it, every peer with
 * it is busy, none could run it or it failed (its kind is the run's, run-errors.ts). Nothing of the
 * write was kept.
 */
export class EmbeddingUnavailableError extends Error {
  static override readonly name = 'EmbeddingUnavailableError'
  constructor(
    readonly model: string,
    readonly failureKind: Failure,
    reason: string,
  ) {
    super(`embedding model "${model}" could not embed: ${reason}`)
    this.name = 'EmbeddingUnavailableError'
  }

  get details() {
    return { model: this.model }
  }
}
