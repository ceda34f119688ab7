/** What the typed client throws; recognised by `name`, like every error of Ripple. */

interface Issue {
  path: readonly (string | number)[]
  message: string
}

/**
 * Thrown when the daemon answers a request with an error (its status and the API's error body). The
 * message names every field at fault when the API listed them.
 */
export class ApiRequestError extends Error {
  static override readonly name = 'ApiRequestError'
  constructor(
    readonly status: number,
    readonly errorName: string,
    message: string,
    readonly details?: unknown,
  ) {
    const issues = (details as { issues?: Issue[] } | undefined)?.issues ?? []
    const fields = issues.map((i) => `${i.path.join('.') || '(the body)'}: ${i.message}`)
    super(`${errorName} (HTTP ${status}): ${message}${fields.length > 0 ? ` (${fields.join('; ')})` : ''}`)
    this.name = 'ApiRequestError'
  }
}

/** Thrown when nothing answers at the API's URL (no daemon running there, or it stopped). */
export class DaemonUnreachableError extends Error {
  static override readonly name = 'DaemonUnreachableError'
  constructor(
    readonly baseUrl: string,
    code?: string,
  ) {
    super(`no daemon answers at ${baseUrl}${code ? ` (${code})` : ''}; start one with \`ripple up\``)
    this.name = 'DaemonUnreachableError'
  }
}

/** Thrown when the daemon goes away in the middle of a request (it stopped or crashed). */
export class DaemonConnectionLostError extends Error {
  static override readonly name = 'DaemonConnectionLostError'
  constructor(
    readonly baseUrl: string,
    reason: string,
  ) {
    super(
      `the daemon at ${baseUrl} went away in the middle of the request (${reason}): it stopped or crashed. ` +
        'See its log, start it again with `ripple up`, then run this command again',
    )
    this.name = 'DaemonConnectionLostError'
  }
}

/**
 * What a failed connection to the daemon means, for a person: nobody listening (refused) or a daemon
 * that died while answering (reset, closed mid-body). `err` is what fetch or a body read threw.
 */
export function connectionError(baseUrl: string, err: unknown): Error {
  const code = errorCode(err)
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND') return new DaemonUnreachableError(baseUrl, code)
  return new DaemonConnectionLostError(baseUrl, code ?? (err as Error).message)
}

/** The first system or undici error code along the error's causes (undici wraps them in a TypeError). */
function errorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string') return e.code
    e = e.cause as typeof e
  }
  return undefined
}

/** Thrown when an answer does not match the route's contract (a daemon of another version?). */
export class InvalidReplyError extends Error {
  static override readonly name = 'InvalidReplyError'
  constructor(
    readonly route: string,
    readonly issues: readonly { path: readonly PropertyKey[]; message: string }[],
  ) {
    const first = issues[0]
    super(
      `the daemon's answer to ${route} does not match the API contract` +
        (first ? ` (${first.path.map(String).join('.') || 'the body'}: ${first.message})` : ''),
    )
    this.name = 'InvalidReplyError'
  }
}

/** Thrown when a stream ends before the event the caller waits for (the daemon stopped, say). */
export class StreamEndedError extends Error {
  static override readonly name = 'StreamEndedError'
  constructor(what: string) {
    super(`the daemon closed the stream before ${what}`)
    this.name = 'StreamEndedError'
  }
}

/** Thrown when a run on the mesh fails after its events started streaming (the mesh's reason). */
export class RunFailedError extends Error {
  static override readonly name = 'RunFailedError'
  constructor(
    /** The daemon's name for it (`RunError`, ...). */
    readonly errorName: string,
    message: string,
  ) {
    super(message)
    this.name = 'RunFailedError'
  }
}

/** Thrown when a model load fails after its progress started streaming. */
export class ModelLoadFailedError extends Error {
  static override readonly name = 'ModelLoadFailedError'
  constructor(errorName: string, message: string) {
    super(`${errorName}: ${message}`)
    this.name = 'ModelLoadFailedError'
  }
}

/** Thrown when a model pull fails after its progress started streaming. */
export class ModelPullFailedError extends Error {
  static override readonly name = 'ModelPullFailedError'
  constructor(errorName: string, message: string) {
    super(`${errorName}: ${message}`)
    this.name = 'ModelPullFailedError'
  }
}
