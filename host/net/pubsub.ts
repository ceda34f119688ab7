/**
 * Gossip of binary messages on the network's two topics: `ops` (DHT ops; a missed one is caught up
 * later by anti-entropy) and `signals` (heartbeats and other loss-tolerant chatter). libp2p does not
 * sign them: what they carry is signed already (an op by its author, a signal by its agent) and
 * checked by the receiver, so a second signature per message would only cost a verification at every
 * hop. Instead a peer passes a message on only once it accepted what it carries (gossipsub's
 * asynchronous validation), and a message is taken only from a verified peer, who answers for it.
 */
import { createHash } from 'node:crypto'
import type { GossipSub, GossipsubMessage, SubscriptionChangeData } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId, TypedEventTarget } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import type { NetworkIdentity } from './network-identity.ts'
import type { PeerBook } from './peer-book.ts'
import { floodsTo } from './topic-pace.ts'

export type GossipChannel = 'ops' | 'signals'

/** What the receiver made of a gossip message. */
export type GossipVerdict = 'accept' | 'reject' | 'ignore'

export interface GossipMessage {
  data: Uint8Array
  /** The peer that delivered it (connected and verified), who passes on only what it accepted. */
  from: PeerId
  /**
   * The receiver's verdict, once (later calls change nothing): an accepted message goes on to the
   * other peers of the mesh, a rejected one counts against the peer that delivered it, and one left
   * without a verdict goes no further.
   */
  verdict(result: GossipVerdict): void
}

const VERDICTS: Record<GossipVerdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  reject: TopicValidatorResult.Reject,
  ignore: TopicValidatorResult.Ignore,
}

export interface RipplePubsubEvents {
  op: CustomEvent<GossipMessage>
  signal: CustomEvent<GossipMessage>
  /**
   * A peer was seen subscribing to a channel: what was published on it just before then went to
   * every subscriber but that peer (replication asks it for what it missed).
   */
  subscribed: CustomEvent<{ peer: PeerId; channel: GossipChannel }>
}

export interface RipplePubsub extends TypedEventTarget<RipplePubsubEvents> {
  /** Resolves with the number of peers it was sent to directly; zero peers is not an error. */
  publish(channel: GossipChannel, data: Uint8Array): Promise<number>
  /** Peers known to be subscribed to the channel. */
  subscribers(channel: GossipChannel): PeerId[]
  /**
   * How many peers are in our gossip mesh for the channel. A message we relay goes to these only,
   * so one relayed before the mesh forms is left to anti-entropy; tests and benchmarks wait on it.
   */
  meshSize(channel: GossipChannel): number
}

/** Methods of the class behind gossipsub's exported interface that the interface leaves out. */
export type GossipSubClass = GossipSub & {
  publish(
    topic: string,
    data: Uint8Array,
    options?: { floodPublish?: boolean },
  ): ReturnType<GossipSub['publish']>
  getMeshPeers(topic: string): string[]
  reportMessageValidationResult(msgId: string, source: string, result: TopicValidatorResult): void
}

export interface StartableRipplePubsub extends RipplePubsub {
  /** After libp2p started: gossipsub refuses subscriptions before. */
  start(): void
  stop(): void
}

class DefaultRipplePubsub extends TypedEventEmitter<RipplePubsubEvents> implements StartableRipplePubsub {
  readonly #topics: Record<GossipChannel, string>

  readonly #gossip: GossipSubClass
  readonly #peers: PeerBook

  constructor(gossip: GossipSubClass, identity: NetworkIdentity, peers: PeerBook) {
    super()
    this.#gossip = gossip
    this.#peers = peers
    this.#topics = { ops: identity.opsTopic, signals: identity.signalsTopic }
  }

  start(): void {
    for (const topic of Object.values(this.#topics)) {
      // A message relayed by a peer still mid-handshake waits for it rather than being lost.
      this.#gossip.topicValidators.set(topic, async (relayer) =>
        (await this.#peers.whenVerified(relayer)) ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore,
      )
      this.#gossip.subscribe(topic)
    }
    this.#gossip.addEventListener('gossipsub:message', this.#onMessage)
    this.#gossip.addEventListener('subscription-change', this.#onSubscriptionChange)
  }

  stop(): void {
    this.#gossip.removeEventListener('gossipsub:message', this.#onMessage)
    this.#gossip.removeEventListener('subscription-change', this.#onSubscriptionChange)
    for (const topic of Object.values(this.#topics)) {
      this.#gossip.unsubscribe(topic)
      this.#gossip.topicValidators.delete(topic)
    }
  }

  async publish(channel: GossipChannel, data: Uint8Array): Promise<number> {
    const topic = this.#topics[channel]
    const floodPublish = floodsTo(this.#gossip.getSubscribers(topic).length)
    const { recipients } = await this.#gossip.publish(topic, data, { floodPublish })
    return recipients.length
  }

  subscribers(channel: GossipChannel): PeerId[] {
    return this.#gossip.getSubscribers(this.#topics[channel])
  }

  meshSize(channel: GossipChannel): number {
    return this.#gossip.getMeshPeers(this.#topics[channel]).length
  }

  readonly #onMessage = (evt: CustomEvent<GossipsubMessage>) => {
    const { msg, msgId, propagationSource } = evt.detail
    let given = false
    const detail: GossipMessage = {
      data: msg.data,
      from: propagationSource,
      verdict: (result) => {
        if (given) return
        given = true
        this.#gossip.reportMessageValidationResult(msgId, propagationSource.toString(), VERDICTS[result])
      },
    }
    if (msg.topic === this.#topics.ops) this.safeDispatchEvent('op', { detail })
    else if (msg.topic === this.#topics.signals) this.safeDispatchEvent('signal', { detail })
  }

  readonly #onSubscriptionChange = (evt: CustomEvent<SubscriptionChangeData>) => {
    const { peerId, subscriptions } = evt.detail
    for (const { topic, subscribe } of subscriptions) {
      const channel = (Object.keys(this.#topics) as GossipChannel[]).find((c) => this.#topics[c] === topic)
      if (subscribe && channel !== undefined)
        this.safeDispatchEvent('subscribed', { detail: { peer: peerId, channel } })
    }
  }
}

/** The parts of a gossip message as it arrives (gossipsub's `RPC.Message`). */
interface RawMessage {
  from?: Uint8Array
  seqno?: Uint8Array
  topic: string
  data?: Uint8Array
  signature?: Uint8Array
  key?: Uint8Array
}

/**
 * Gossipsub's "fast message id": a digest of every byte of the message as received. Gossipsub drops
 * a message whose fast id it has seen before (in a mesh each message arrives from several peers)
 * without decoding it further.
 */
export function fastMessageId(msg: RawMessage): string {
  const hash = createHash('sha256')
  for (const part of [msg.from, msg.seqno, Buffer.from(msg.topic), msg.data, msg.signature, msg.key]) {
    const bytes = part ?? new Uint8Array()
    // Length-prefixed: bytes cannot move from one part to the next unnoticed.
    hash.update(`${bytes.length}:`).update(bytes)
  }
  return hash.digest('base64')
}

export function createRipplePubsub(
  gossip: GossipSub,
  identity: NetworkIdentity,
  peers: PeerBook,
): StartableRipplePubsub {
  return new DefaultRipplePubsub(gossip as GossipSubClass, identity, peers)
}
