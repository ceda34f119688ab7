/**
 * Pushing a neighbourhood op to its holders (issue 57): when records are sharded its author sends it
 * to its basis and activity holders directly (op-placement.ts `pushTo`), members only, instead of on
 * the gossip topic that every peer reads. A holder acknowledges once it has taken the batch in; one
 * that does not is asked again a few times, then left to anti-entropy within the neighbourhood.
 *
 * The wire is `record-push/1.0.0`, part of `record` version 1 (PROTOCOLS.record): no release states
 * `record` yet (it came with issue 57, unreleased), so version 1 is what this release speaks, gets and
 * pushes both, and needs no bump; a release that pushes differently bumps it.
 */
import type { PeerId } from '@libp2p/interface'
import { z } from 'zod'
import { peerIdOfAgent } from '../../../identity/peer-agent.ts'
import type { PushStats } from '../../../interface/network-port.ts'
import type { Logger } from '../../../log/logger.ts'
import type { RequestHandler, RequestResponse } from '../../../net/request-response.ts'
import type { IngestResult } from './ingest-result.ts'
import { type OpBatch, toWireTuples, wireOpsSchema } from './op-wire.ts'
import { bytesSchema, decodeMessage, encodeMessage } from './wire-codec.ts'

/** Members only: what a mesh records is its members'. */
export const RECORD_PUSH_PROTOCOL = 'record-push/1.0.0'

/** Most ops one push carries (a burst of commits goes in a few pushes). */
export const MAX_PUSHED_OPS = 64
/** Tries of one push to one holder, and the wait before each retry (ms). */
export const PUSH_RETRY_DELAYS_MS = [1_000, 4_000] as const

const pushSchema = z.object({
  v: z.literal(1),
  dna: bytesSchema,
  ops: wireOpsSchema.refine((ops) => ops.length <= MAX_PUSHED_OPS, 'too many ops in one push'),
})
const ackSchema = z.object({ taken: z.number().int().nonnegative() })

export function encodePush(batch: OpBatch): Uint8Array {
  return encodeMessage({ v: 1, dna: batch.dnaHash, ops: toWireTuples(batch.ops) })
}

/** Throws MalformedMessageError unless `bytes` is a push. */
export function decodePush(bytes: Uint8Array): OpBatch {
  const push = decodeMessage(pushSchema, bytes, 'record push')
  return { dnaHash: push.dna, ops: push.ops }
}

/** Counters at zero: one set a replicator shares between its pusher and its push handler. */
export const noPushes = (): PushStats => ({ sent: 0, acked: 0, failed: 0, opsReceived: 0, opsKept: 0 })

/**
 * The holder's side: each pushed batch ingested (route 'pushed'), acknowledged once taken in; `stats`
 * counts the ops received and those kept (an op neither this peer's by placement nor valid is not).
 */
export function pushHandler(
  receive: (batch: OpBatch, from: PeerId) => IngestResult | null,
  stats: PushStats = noPushes(),
): RequestHandler {
  return async (bytes, peer) => {
    const batch = decodePush(bytes)
    stats.opsReceived += batch.ops.length
    const result = receive(batch, peer)
    // Not taken in (stopping, or the store failed): no ack, so the author asks again.
    if (result === null) throw new Error('the pushed ops were not taken in')
    const { stored, duplicate, pending } = result.counts
    const taken = stored + duplicate + pending
    stats.opsKept += taken
    return encodeMessage({ taken })
  }
}

export interface OpPusherInit {
  rpc: Pick<RequestResponse, 'request'>
  logger: Logger
  signal: AbortSignal
  /** Waits `ms` (tests shorten it); default a timer. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  timeoutMs?: number
  /** Where pushes sent, acknowledged and given up are counted; default a set of its own. */
  stats?: PushStats
}

export class OpPusher {
  readonly #init: OpPusherInit
  /** Pushes sent (each once, however often retried), acknowledged, and given up after every retry. */
  readonly stats: PushStats

  constructor(init: OpPusherInit) {
    this.#init = init
    this.stats = init.stats ?? noPushes()
  }

  /** Pushes `batch` to `agent` (HoloHashB64) until it acknowledges or the retries run out. */
  async push(agent: string, batch: OpBatch): Promise<boolean> {
    const { rpc, signal } = this.#init
    const bytes = encodePush(batch)
    this.stats.sent++
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await rpc.request(peerIdOfAgent(agent), RECORD_PUSH_PROTOCOL, bytes, {
          signal,
          timeoutMs: this.#init.timeoutMs,
        })
        decodeMessage(ackSchema, ack, 'record push ack')
        this.stats.acked++
        return true
      } catch (err) {
        const delay = PUSH_RETRY_DELAYS_MS[attempt]
        if (signal.aborted) return false
        if (delay === undefined) {
          this.stats.failed++
          this.#init.logger.debug({ err, agent }, 'a push to a holder failed; anti-entropy will bring it')
          return false
        }
        await (this.#init.sleep ?? sleep)(delay, signal).catch(() => {})
      }
    }
  }
}

/** Waits `ms`; the listener on the replication's signal goes with the wait, or every retry would leave one. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', aborted)
      resolve()
    }, ms)
    timer.unref()
    signal.addEventListener('abort', aborted, { once: true })
  })
