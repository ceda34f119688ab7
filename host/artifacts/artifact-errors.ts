/** What can go wrong with an artifact; each says its kind, which each edge answers its way. */
import type { Failure } from '../interface/failure-kind.ts'

export class ArtifactNotFoundError extends Error {
  static override readonly name = 'ArtifactNotFoundError'
  readonly failureKind: Failure = 'not_found'
  constructor(readonly cid: string) {
    super(`no artifact is registered for ${cid}`)
    this.name = 'ArtifactNotFoundError'
  }
}

/** No block of the CID arrived for the whole timeout: no peer that holds it is reachable. */
export class ContentUnavailableError extends Error {
  static override readonly name = 'ContentUnavailableError'
  readonly failureKind: Failure = 'unavailable/timed_out'
  constructor(
    readonly cid: string,
    readonly timeoutMs: number,
  ) {
    super(`no peer provided ${cid} for ${Math.round(timeoutMs / 1000)} s: nobody reachable holds it`)
    this.name = 'ContentUnavailableError'
  }
}

/** The CID's bytes are not what its Artifact says (its author registered a wrong sha256 or size). */
export class ArtifactMismatchError extends Error {
  static override readonly name = 'ArtifactMismatchError'
  readonly failureKind: Failure = 'invalid/unprocessable'
  constructor(
    readonly cid: string,
    readonly field: 'sha256' | 'size',
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `the bytes of ${cid} do not match its artifact: ${field} is ${actual}, the artifact says ${expected}`,
    )
    this.name = 'ArtifactMismatchError'
  }

  get details() {
    return { field: this.field }
  }
}

export class InvalidCidError extends Error {
  static override readonly name = 'InvalidCidError'
  readonly failureKind: Failure = 'invalid'
  readonly details = { field: 'cid' }
  constructor(readonly cid: string) {
    super(`"${cid}" is not a CID`)
    this.name = 'InvalidCidError'
  }
}

/** Pinning would pass this peer's `--ipfs-max-size`; what it already keeps stays. */
export class PinQuotaExceededError extends Error {
  static override readonly name = 'PinQuotaExceededError'
  readonly failureKind: Failure = 'unavailable/no_room'
  constructor(
    readonly cid: string,
    readonly size: number,
    readonly room: number,
  ) {
    super(`cannot keep ${cid} (${size} bytes): only ${room} bytes left under this peer's IPFS quota`)
    this.name = 'PinQuotaExceededError'
  }
}

/** The disk under this peer's IPFS store filled up while pinning; what it already kept stays. */
export class DiskFullError extends Error {
  static override readonly name = 'DiskFullError'
  readonly failureKind: Failure = 'unavailable/no_room'
  /** `cid`: what was being pinned; null for new content being added. */
  constructor(readonly cid: string | null) {
    super(
      `cannot keep ${cid ?? 'the new content'}: the disk under this peer's IPFS store is full (what it already keeps stays)`,
    )
    this.name = 'DiskFullError'
  }
}

/** Whether an error (or one it wraps) is the OS saying the disk is full. */
export function isDiskFull(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 5) return false
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown; message?: unknown }
  if (e.code === 'ENOSPC' || (typeof e.message === 'string' && e.message.includes('ENOSPC'))) return true
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDiskFull(inner, depth + 1))) return true
  return isDiskFull(e.cause, depth + 1)
}
