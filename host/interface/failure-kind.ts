/**
 * What kind of failure an error is, said by the error itself (its `failureKind`), so that each edge
 * (`/api`, the OpenAI routes, the Anthropic routes, MCP) answers every error from one table of its
 * own, kind to status, and never by the error's name. Read by shape, not class: an error from another
 * copy of a module says it too. A run on the mesh says its outcome in these words too, from a runner's
 * refusal on the wire (requests/direct/direct-wire.ts) to the caller's error (requests/run-errors.ts).
 * Imports nothing: the API client and the browser load it.
 */

export const FAILURE_KINDS = [
  /** The request cannot be done as sent: a field at fault, a reference to nothing usable. */
  'invalid',
  /** The caller may not do it. */
  'forbidden',
  /** What it names is not there. */
  'not_found',
  /** It clashes with what is there already. */
  'conflict',
  /** Everyone who could do it is busy: try again shortly. */
  'busy',
  /** It cannot be done now (nobody to do it, no room, the daemon stopping); later it may. */
  'unavailable',
  /** It was tried and failed. */
  'failed',
] as const

export type FailureKind = (typeof FAILURE_KINDS)[number]

/**
 * Shades of a kind that some edge answers apart (HTTP has a status for each), written `kind/shade`.
 * An edge that does not tell a shade apart answers its kind.
 */
const SHADES = [
  /** No credential, or a wrong one (HTTP's 401 beside 403). */
  'forbidden/unauthenticated',
  'invalid/too_large',
  /** A body in a form not taken (a media type). */
  'invalid/unsupported',
  /** Well-formed, but what it names cannot be used (HTTP's 422 beside 400). */
  'invalid/unprocessable',
  /** A limit (a policy, an API key's) refused it: it lifts by itself, after the `retry-after` it says. */
  'busy/limited',
  /** Not enough memory or disk, here or in the mesh. */
  'unavailable/no_room',
  /** Who was to do it could not be reached, or dropped it before it answered. */
  'unavailable/unreachable',
  /** Waited for, and nobody answered. */
  'unavailable/timed_out',
  /** A peer or a remote source failed, not this daemon (HTTP's 502 beside 500). */
  'failed/upstream',
] as const

export type ShadedKind = (typeof SHADES)[number]

/** What an error declares: a kind, or a shade of one. */
export type Failure = FailureKind | ShadedKind

/** An error that says what kind of failure it is. */
export interface KindedError extends Error {
  readonly failureKind: Failure
  /** What a caller may read of it besides the message (the field at fault, the rule that refused). */
  readonly details?: Readonly<Record<string, unknown>>
}

const FAILURES: ReadonlySet<string> = new Set([...FAILURE_KINDS, ...SHADES])

/** What `err` declares, or null when it says nothing (to an edge, the daemon's own failure). */
export function failureOf(err: unknown): Failure | null {
  const declared = (err as { failureKind?: unknown } | null | undefined)?.failureKind
  return typeof declared === 'string' && FAILURES.has(declared) ? (declared as Failure) : null
}

/** The kind `err` declares, its shade left aside; null when it says nothing. */
export function kindOf(err: unknown): FailureKind | null {
  const failure = failureOf(err)
  return failure === null ? null : baseKind(failure)
}

function baseKind(failure: Failure): FailureKind {
  return failure.split('/', 1)[0] as FailureKind
}

/** An edge's answers: one for each kind, and one for each shade it tells apart. */
export type FailureTable<T> = Readonly<Record<FailureKind, T> & Partial<Record<ShadedKind, T>>>

/** The edge's answer to a failure: its shade's where the table tells it apart, else its kind's. */
export function answerFor<T>(table: FailureTable<T>, failure: Failure): T {
  return (table as Partial<Record<Failure, T>>)[failure] ?? table[baseKind(failure)]
}
