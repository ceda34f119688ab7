/** Errors of the embedded conductor (validation errors live with the validator seam). */
import type { Failure } from '../../interface/failure-kind.ts'

/** Thrown when a stored source chain fails verification at open: the cell refuses to run on it. */
export class ChainIntegrityError extends Error {
  static override readonly name = 'ChainIntegrityError'
  constructor(
    readonly dna: string,
    /** The seq where the chain breaks (the first bad or missing action). */
    readonly seq: number,
    /** HoloHashB64 of the offending action, when there is one. */
    readonly actionHash: string | null,
    readonly reason: string,
  ) {
    super(
      `source chain of ${dna} is broken at seq ${seq}${actionHash ? ` (action ${actionHash})` : ''}: ${reason}`,
    )
    this.name = 'ChainIntegrityError'
  }
}

/** Thrown when a zome call names a hash this conductor does not hold, or one of the wrong kind. */
export class RecordNotFoundError extends Error {
  static override readonly name = 'RecordNotFoundError'
  readonly failureKind: Failure = 'not_found'
  constructor(message: string) {
    super(message)
    this.name = 'RecordNotFoundError'
  }
}

/** Thrown when a zome call payload (or a zome's output) does not match the contract's schema. */
export class InvalidZomeCallError extends Error {
  static override readonly name = 'InvalidZomeCallError'
  // A zome's own output off the contract is this daemon's failure, not the caller's.
  readonly failureKind: Failure
  constructor(
    readonly dna: string,
    readonly fn: string,
    readonly issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>,
    readonly direction: 'input' | 'output' = 'input',
  ) {
    const detail = issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')
    super(`${dna}.${fn}: invalid ${direction}: ${detail}`)
    this.name = 'InvalidZomeCallError'
    this.failureKind = direction === 'input' ? 'invalid' : 'failed'
  }

  get details() {
    return this.direction === 'input' ? { issues: this.issues } : undefined
  }
}

/** Thrown when a zome function exists in the contract but the embedded conductor does not run it yet. */
export class ZomeFunctionNotImplementedError extends Error {
  static override readonly name = 'ZomeFunctionNotImplementedError'
  // In the contract, not in this backend yet: for the caller, no such function here.
  readonly failureKind: Failure = 'not_found'
  readonly details = { field: 'fn' }
  constructor(
    readonly dna: string,
    readonly fn: string,
  ) {
    super(`${dna}.${fn} is not implemented by the embedded conductor yet`)
    this.name = 'ZomeFunctionNotImplementedError'
  }
}

/** Thrown when a zome names an entry or link type that its DNA does not define. */
export class UnknownTypeError extends Error {
  static override readonly name = 'UnknownTypeError'
  constructor(message: string) {
    super(message)
    this.name = 'UnknownTypeError'
  }
}

/**
 * Thrown when a zome call's gets from holders (remote-reads.ts), all its rounds together, outlast the
 * call's deadline: a peer cut off from the holders fails the call then, not after every holder of
 * every round timed out one at a time.
 */
export class ReadsTimedOutError extends Error {
  static override readonly name = 'ReadsTimedOutError'
  readonly failureKind: Failure = 'unavailable/timed_out'
  constructor(
    readonly dna: string,
    readonly deadlineMs: number,
    options?: ErrorOptions,
  ) {
    super(
      `${dna}: the holders of the records a zome call reads did not answer within ${deadlineMs} ms`,
      options,
    )
    this.name = 'ReadsTimedOutError'
  }
}
