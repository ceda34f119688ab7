/**
 * Sends a stream's frames in order, those handed over within one turn of the event loop in one write.
 * Each write is a muxer frame, an encrypted Noise message and two socket writes (its length, then its
 * ciphertext), whatever its size: an answer's last token and its `done`, or a refusal and nothing
 * else, cost that once. The frames themselves are unchanged (each keeps its own length prefix), so a
 * peer of any version reads them as before.
 */
import type { JsonFrames } from './direct-wire.ts'

export interface FrameSender {
  /** Queues a frame; it goes out after every frame queued before it. */
  send(frame: unknown): void
  /** Resolves once every frame queued so far was written, or failed to be (the stream says why). */
  sent(): Promise<void>
}

export function frameSender(frames: Pick<JsonFrames, 'writeAll'>, signal: AbortSignal): FrameSender {
  let queued: unknown[] = []
  let sending = Promise.resolve()
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))
  return {
    send(frame) {
      queued.push(frame)
      // The first frame of a batch schedules its write; the next ones of the same turn join it.
      if (queued.length > 1) return
      sending = sending
        .then(nextTurn)
        .then(() => {
          const batch = queued
          queued = []
          return frames.writeAll(batch, signal)
        })
        .catch(() => {})
    },
    sent: () => sending,
  }
}
