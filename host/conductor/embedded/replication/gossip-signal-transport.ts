/**
 * Signals over libp2p: broadcasts (heartbeats) on the network's `signals` gossip channel, and signals
 * to one agent (a running task's tokens and progress, to its requester only) over a direct
 * request/response stream to that agent's peer, sent one at a time per agent so they arrive in
 * order. Each is signed by the sender's agent key and checked on receipt against the agent it names,
 * so no peer can speak for another (a forged heartbeat would keep a dead peer "online"); a per-sender
 * clock (one per route) drops replays and stale copies. A signal to this conductor's own agent, and
 * every broadcast, also reach this conductor's own handlers, as the conductor expects. Signals on a
 * topic (a model's load news, design 4e) go on that topic's gossip, to the peers that joined it only,
 * sealed and checked the same way. A mesh-wide signal also carries its sender's release statement
 * (`versions`), the hello's, for the members that never connect to this peer; news on a topic carries
 * it too, once in a while (STATED_ON_TOPIC_EVERY_MS).
 */

import type { TypedEventTarget } from '@libp2p/interface'
import { z } from 'zod'
import { DNA_NAMES } from '../../../../zomes-bindings/index.ts'
import { encodeHashB64, holoHashKind } from '../../../identity/hash.ts'
import { type AgentKey, verifyAgentSignature } from '../../../identity/keystore.ts'
import { peerIdOfAgent } from '../../../identity/peer-agent.ts'
import type { Signal } from '../../../interface/conductor-port.ts'
import { type ReleaseStatement, ReleaseStatementSchema } from '../../../interface/release.ts'
import { type Logger, silentLogger } from '../../../log/logger.ts'
import type { GossipMessage, RipplePubsub } from '../../../net/pubsub.ts'
import type { RequestResponse } from '../../../net/request-response.ts'
import type { SignalTransport } from '../signal-transport.ts'
import { MalformedMessageError } from './errors.ts'
import { bytesSchema, decodeMessage, encodeMessage } from './wire-codec.ts'

/** A gossip message on a model's topic (net/model-topics.ts). */
export type TopicNews = GossipMessage & { model: string }

/** A gossip topic per model: joined, left, published on within its rate budget, heard as `news`. */
export interface TopicGossip extends TypedEventTarget<{ news: CustomEvent<TopicNews> }> {
  join(model: string): void
  leave(model: string): void
  /** 'held': it waits for the topic's pace, and news published meanwhile replaces it. */
  publish(model: string, data: Uint8Array): Promise<'sent' | 'held' | 'refused'>
}

export interface GossipSignalTransportInit {
  pubsub: RipplePubsub
  /** Topics per model; without them, signals are broadcast only. */
  topics?: TopicGossip
  /** Direct signals to one agent; without it, `send` reaches only this conductor's own agent. */
  rpc?: Pick<RequestResponse, 'handle' | 'unhandle' | 'request'>
  /** This agent's key: signals go out signed by it. */
  key: Pick<AgentKey, 'agentPubKey' | 'sign'>
  /** A signal whose sender clock is further than this from ours is dropped. Default 30 s. */
  maxSkewMs?: number
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number
  /**
   * This peer's release statement, told in each mesh-wide signal it sends (its heartbeats), and the
   * book where others' are kept (net/mesh-versions.ts). The hello tells it only to the peers that
   * connect, a handful past a small mesh; every member never met counted as a release before
   * statements and held each new form back for the whole mesh (issue 57: records never sharded at 32).
   */
  versions?: { readonly own: ReleaseStatement; record(agent: string, statement: ReleaseStatement): void }
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
  /** The sender's release statement (mesh-wide signals; an earlier release's carry none): read leniently. */
  release: z.unknown().optional(),
})

const DEFAULT_MAX_SKEW_MS = 30_000
/**
 * How often, at most, news on a topic carries its sender's statement. A listener holds a runner heard
 * on a topic among the members a new form waits for, and without a statement counts it a release
 * before 0.2.0 until its mesh-wide beat (minutes apart in a big mesh): a joiner using a model kept its
 * records unsharded that long. On every message it would add ~150 bytes to ~310.
 */
export const STATED_ON_TOPIC_EVERY_MS = 30_000
export const DIRECT_SIGNAL_PROTOCOL = 'signal/1.0.0'
const EMPTY = new Uint8Array()

class GossipSignalTransport implements SignalTransport {
  readonly #init: GossipSignalTransportInit
  readonly #handlers = new Set<(signal: Signal) => void>()
  readonly #logger: Logger
  readonly #now: () => number
  /** The last accepted `ts` per sender, for gossip and for direct signals (two routes, two orders). */
  readonly #lastSeen = { gossip: new Map<string, number>(), direct: new Map<string, number>() }
  /** The same per topic and sender (one order per topic: topics' messages may overtake each other). */
  readonly #topicSeen = new Map<string, number>()
  readonly topics?: SignalTransport['topics']
  /** Per recipient, the last direct send: the next one waits for it, so they arrive in order. */
  readonly #sending = new Map<string, Promise<void>>()
  /** When this peer's statement last rode each topic's news (ms). */
  readonly #statedOn = new Map<string, number>()
  #lastSent = 0

  constructor(init: GossipSignalTransportInit) {
    this.#init = init
    this.#logger = init.logger ?? silentLogger()
    this.#now = init.now ?? Date.now
    init.pubsub.addEventListener('signal', this.#onGossip)
    const gossip = init.topics
    if (gossip) {
      gossip.addEventListener('news', this.#onNews)
      this.topics = {
        join: (topic) => gossip.join(topic),
        leave: (topic) => gossip.leave(topic),
        publish: async (topic, signal) => {
          const statement = this.#statementOn(topic)
          const outcome = await gossip.publish(topic, this.#seal(signal, statement))
          // Held news may be replaced before it goes: the news replacing it carries the statement again.
          if (statement !== undefined && outcome !== 'held') this.#statedOn.set(topic, this.#now())
        },
      }
    }
    void init.rpc?.handle(DIRECT_SIGNAL_PROTOCOL, async (data) => {
      const signal = this.#open(data, 'direct')
      if (signal !== null && signal !== 'forged') this.#deliver(signal)
      return EMPTY
    })
  }

  async broadcast(signal: Signal): Promise<void> {
    const own: Signal = { ...signal, from: encodeHashB64(this.#init.key.agentPubKey) }
    const envelope = this.#seal(signal, this.#init.versions?.own)
    // Like a network hop: local handlers run after the sender's turn, never inside its call stack.
    await Promise.resolve()
    this.#deliver(own)
    await this.#init.pubsub.publish('signals', envelope)
  }

  send(to: string, signal: Signal): Promise<void> {
    const me = encodeHashB64(this.#init.key.agentPubKey)
    const envelope = this.#seal(signal)
    const previous = this.#sending.get(to) ?? Promise.resolve()
    const sent = previous
      .catch(() => {})
      .then(async () => {
        if (to === me) {
          this.#deliver({ ...signal, from: me })
          return
        }
        if (this.#init.rpc === undefined) throw new Error('direct signals need a request/response service')
        await this.#init.rpc.request(peerIdOfAgent(to), DIRECT_SIGNAL_PROTOCOL, envelope)
      })
    this.#sending.set(to, sent)
    void sent
      .finally(() => {
        if (this.#sending.get(to) === sent) this.#sending.delete(to)
      })
      .catch(() => {})
    return sent
  }

  /** This peer's statement for the next news on `topic`, where it is due (STATED_ON_TOPIC_EVERY_MS). */
  #statementOn(topic: string): ReleaseStatement | undefined {
    const since = this.#now() - (this.#statedOn.get(topic) ?? Number.NEGATIVE_INFINITY)
    return since < STATED_ON_TOPIC_EVERY_MS ? undefined : this.#init.versions?.own
  }

  /** The signed envelope of a signal from this agent, stamped with the next clock value. */
  #seal(signal: Signal, release?: ReleaseStatement): Uint8Array {
    const { key } = this.#init
    this.#lastSent = Math.max(this.#now() * 1000, this.#lastSent + 1)
    const body = encodeMessage({
      dna: signal.dna,
      from: key.agentPubKey,
      payload: signal.payload,
      ts: this.#lastSent,
      ...(release === undefined ? {} : { release }),
    })
    return encodeMessage({ v: 1, body, sig: key.sign(body) })
  }

  onReceive(handler: (signal: Signal) => void): () => void {
    this.#handlers.add(handler)
    return () => this.#handlers.delete(handler)
  }

  async close(): Promise<void> {
    this.#init.pubsub.removeEventListener('signal', this.#onGossip)
    this.#init.topics?.removeEventListener('news', this.#onNews)
    // The node may be stopping too; a handler it no longer has is no error.
    await this.#init.rpc?.unhandle(DIRECT_SIGNAL_PROTOCOL).catch(() => {})
    this.#handlers.clear()
  }

  readonly #onGossip = (evt: CustomEvent<GossipMessage>) => this.#judge(evt.detail, null)

  readonly #onNews = (evt: CustomEvent<TopicNews>) => this.#judge(evt.detail, evt.detail.model)

  /** A gossip message (mesh-wide, or on a model's `topic`) judged and, when genuine and fresh, delivered. */
  #judge(message: GossipMessage, topic: string | null): void {
    try {
      const opened = this.#open(message.data, topic === null ? 'gossip' : { topic })
      const signal = opened === null || opened === 'forged' || topic === null ? opened : { ...opened, topic }
      // Passed on to other peers only when it is a fresh, genuine signal.
      if (signal === 'forged') message.verdict('reject')
      else if (signal === null) message.verdict('ignore')
      else {
        message.verdict('accept')
        this.#deliver(signal)
      }
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err
      message.verdict('reject')
      this.#logger.debug({ err }, 'ignored a malformed signal')
    }
  }

  /** The signal inside an envelope; 'forged' when its signature fails; null when replayed, stale or our own. */
  #open(data: Uint8Array, route: 'gossip' | 'direct' | { topic: string }): Signal | 'forged' | null {
    const envelope = decodeMessage(envelopeSchema, data, 'signal envelope')
    const body = decodeMessage(bodySchema, envelope.body, 'signal')
    const from = encodeHashB64(body.from)
    if (from === encodeHashB64(this.#init.key.agentPubKey)) return null
    if (!verifyAgentSignature(body.from, envelope.body, envelope.sig)) {
      this.#logger.debug({ from }, 'dropped a signal whose signature does not verify')
      return 'forged'
    }
    const skewMs = Math.abs(this.#now() - body.ts / 1000)
    const [lastSeen, key] =
      typeof route === 'string' ? [this.#lastSeen[route], from] : [this.#topicSeen, `${route.topic}\n${from}`]
    const last = lastSeen.get(key) ?? -1
    if (skewMs > (this.#init.maxSkewMs ?? DEFAULT_MAX_SKEW_MS) || body.ts <= last) return null
    lastSeen.set(key, body.ts)
    // A statement that does not parse is left unheard; the signal itself still counts.
    const release = body.release === undefined ? null : ReleaseStatementSchema.safeParse(body.release)
    if (release?.success) this.#init.versions?.record(from, release.data)
    return { dna: body.dna, from, payload: body.payload }
  }

  /** To every handler: one that throws is logged, and the handlers after it still run. */
  #deliver(signal: Signal): void {
    for (const handler of this.#handlers) {
      try {
        handler(signal)
      } catch (err) {
        this.#logger.warn({ err, dna: signal.dna, from: signal.from }, 'a signal handler failed')
      }
    }
  }
}

export function createGossipSignalTransport(init: GossipSignalTransportInit): SignalTransport {
  return new GossipSignalTransport(init)
}
