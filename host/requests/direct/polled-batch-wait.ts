/**
 * A runner's answer batch waited for where the backend tells nothing as records arrive (a Holochain
 * conductor: its gossip is its own): read through the conductor until it is there or the wait ends.
 * Until the batch is held, the real conductor's validation of the leaf citing it cannot find it, and a
 * window signed then fails whole; once read, the conductor holds it for that validation too.
 */
import type { ConductorPort } from '../../interface/conductor-port.ts'

/** Between reads: a batch is gossiped in a second or two. */
const POLL_MS = 500

export function polledBatchWait(
  conductor: Pick<ConductorPort, 'callZome'>,
  pollMs = POLL_MS,
): (batch: string, timeoutMs: number) => Promise<boolean> {
  return async (batch, timeoutMs) => {
    // One deadline for every read: a read the conductor makes again and again (a get no peer answered
    // in time, call-retry.ts) is given up at it, not let run past it.
    const deadline = AbortSignal.timeout(timeoutMs)
    const until = Date.now() + timeoutMs
    for (;;) {
      // A read no peer answered is a batch not there yet.
      const record = await conductor
        .callZome('resource_mesh', 'get_answer_batch', batch, { signal: deadline })
        .catch(() => null)
      if (record != null) return true
      if (Date.now() + pollMs > until) return false
      await new Promise((resolve) => setTimeout(resolve, pollMs))
    }
  }
}
