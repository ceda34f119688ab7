/**
 * A zome call a service makes as it starts that reads from holders (the tasks the scheduler knows;
 * the registry's write of this peer's capability, which reads its link first). On a busy sharded mesh
 * the holders may not answer in time (ReadsTimedOutError) or not be reached at all: a daemon must come
 * up all the same (a joiner at 29 of 32 daemons exited for it). Such a call is tried again in the
 * background, backing off, until it succeeds or the service stops, and what depends on it fills in
 * then. A failure of another kind (a bug, a refusal) stays the caller's, as before.
 */
import { kindOf } from '../interface/failure-kind.ts'
import type { Logger } from '../log/logger.ts'

export interface ReadAtStartInit {
  /** What is read, for the log ("the tasks"). */
  what: string
  /** Aborted when the service stops: no read after it, and what one in flight brings is dropped. */
  signal: AbortSignal
  logger: Pick<Logger, 'warn' | 'info'>
  /** The wait before the `retry`th read again (0 first); default: from 1 s, doubling, at most 30 s. */
  backoffMs?: (retry: number) => number
}

const FIRST_RETRY_MS = 1_000
const MAX_RETRY_MS = 30_000

function backoffMs(retry: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** retry)
}

/** Whether `err` says the read may succeed later: nobody answered in time, or could be reached. */
function passing(err: unknown): boolean {
  return kindOf(err) === 'unavailable'
}

/**
 * Reads once and hands `use` what it read. A read that failed for want of its holders is logged once
 * (a warning) and read again in the background: this resolves then all the same. Any other failure
 * rejects, as it did before.
 */
export async function readAtStart<T>(
  read: () => Promise<T>,
  use: (value: T) => void,
  init: ReadAtStartInit,
): Promise<void> {
  try {
    use(await read())
    return
  } catch (err) {
    if (!passing(err) || init.signal.aborted) throw err
    init.logger.warn({ err, what: init.what }, 'not read at start: read again in the background')
  }
  void readAgain(read, use, init).catch((err: unknown) =>
    init.logger.warn({ err, what: init.what }, 'not read at start, nor since: no more tries'),
  )
}

async function readAgain<T>(read: () => Promise<T>, use: (value: T) => void, init: ReadAtStartInit) {
  const wait = init.backoffMs ?? backoffMs
  for (let retry = 0; ; retry++) {
    if (!(await pause(wait(retry), init.signal))) return
    let value: T
    try {
      value = await read()
    } catch (err) {
      if (init.signal.aborted) return
      if (passing(err)) continue
      throw err
    }
    if (init.signal.aborted) return
    use(value)
    init.logger.info({ what: init.what, retries: retry + 1 }, 'read at last')
    return
  }
}

/** Waits `ms`; false, at once, when `signal` aborts first (its timer cleared, holding nothing open). */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const stop = () => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop)
      resolve(true)
    }, ms)
    signal.addEventListener('abort', stop, { once: true })
  })
}
