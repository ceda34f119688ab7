/**
 * Signals (heartbeats) over the network's `signals` gossip channel. Each is signed by the sender's
 * agent key and checked on receipt against the agent it names, so no peer can speak for another (a
 * forged heartbeat would keep a dead peer "online"); a per-sender clock drops replays and stale
 * copies. A broadcast also reaches this conductor's own handlers, as the conductor expects.
 */
import { z } from 'zod'
import { DNA_NAMES } from '../../../../zomes-bindings/index.ts'
import { type Logger, silentLogger } from '../../../log/logger.ts'
import type { RipplePubsub } from '../../../net/pubsub.ts'
import type { Signal } from '../../port.ts'
import { encodeHashB64, holoHashKind } from '../hash.ts'
import { type AgentKey, verifyAgentSignature } from '../keystore.ts'
import type { SignalTransport } from '../signal-transport.ts'
import { MalformedMessageError } from './errors.ts'
import { bytesSchema, decodeMessage, encodeMessage } from './wire-codec.ts'

export interface GossipSignalTransportInit {
  pubsub: RipplePubsub
  /** This agent's key: signals go out signed by it. */
  key: Pick<AgentKey, 'agentPubKey' | 'sign'>
  /** A signal whose sender clock is further than this from ours is dropped. Default 30 s. */
  maxSkewMs?: number
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number
  logger?: Logger
}

const envelopeSchema = z.object({ v: z.literal(1), body: bytesSchema, sig: bytesSchema })
const bodySchema = z.object({
  dna: z.enum(DNA_NAMES),
  from: z.custom<Uint8Array>(
    (v) => v instanceof Uint8Array && holoHashKind(v) === 'agent',
    'not an agent key',
  ),
  payload: z.unknown(),
  /** Sender clock, microseconds, strictly rising per sender. */
  ts: z.number().int().min(0),
})

const DEFAULT_MAX_SKEW_MS = 30_000

class GossipSignalTransport implements SignalTransport {
  readonly #init: GossipSignalTransportInit
  readonly #handlers = new Set<(signal: Signal) => void>()
  readonly #logger: Logger
  readonly #now: () => number
  /** The last accepted `ts` per sender. */
  readonly #lastSeen = new Map<string, number>()
  #lastSent = 0

  constructor(init: GossipSignalTransportInit) {
    this.#init = init
    this.#logger = init.logger ?? silentLogger()
    this.#now = init.now ?? Date.now
    init.pubsub.addEventListener('signal', this.#onGossip)
  }

  async broadcast(signal: Signal): Promise<void> {
    const { key, pubsub } = this.#init
    this.#lastSent = Math.max(this.#now() * 1000, this.#lastSent + 1)
    const body = encodeMessage({
      dna: signal.dna,
      from: key.agentPubKey,
      payload: signal.payload,
      ts: this.#lastSent,
    })
    const own: Signal = { ...signal, from: encodeHashB64(key.agentPubKey) }
    // Like a network hop: local handlers run after the sender's turn, never inside its call stack.
    await Promise.resolve()
    this.#deliver(own)
    await pubsub.publish('signals', encodeMessage({ v: 1, body, sig: key.sign(body) }))
  }

  onReceive(handler: (signal: Signal) => void): () => void {
    this.#handlers.add(handler)
    return () => this.#handlers.delete(handler)
  }

  async close(): Promise<void> {
    this.#init.pubsub.removeEventListener('signal', this.#onGossip)
    this.#handlers.clear()
  }

  readonly #onGossip = (evt: CustomEvent<{ data: Uint8Array }>) => {
    try {
      const signal = this.#open(evt.detail.data)
      if (signal !== null) this.#deliver(signal)
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err
      this.#logger.debug({ err }, 'ignored a malformed signal')
    }
  }

  /** The signal inside an envelope, or null when it is forged, replayed, stale or our own. */
  #open(data: Uint8Array): Signal | null {
    const envelope = decodeMessage(envelopeSchema, data, 'signal envelope')
    const body = decodeMessage(bodySchema, envelope.body, 'signal')
    const from = encodeHashB64(body.from)
    if (from === encodeHashB64(this.#init.key.agentPubKey)) return null
    if (!verifyAgentSignature(body.from, envelope.body, envelope.sig)) {
      this.#logger.debug({ from }, 'dropped a signal whose signature does not verify')
      return null
    }
    const skewMs = Math.abs(this.#now() - body.ts / 1000)
    const last = this.#lastSeen.get(from) ?? -1
    if (skewMs > (this.#init.maxSkewMs ?? DEFAULT_MAX_SKEW_MS) || body.ts <= last) return null
    this.#lastSeen.set(from, body.ts)
    return { dna: body.dna, from, payload: body.payload }
  }

  #deliver(signal: Signal): void {
    for (const handler of this.#handlers) handler(signal)
  }
}

export function createGossipSignalTransport(init: GossipSignalTransportInit): SignalTransport {
  return new GossipSignalTransport(init)
}
