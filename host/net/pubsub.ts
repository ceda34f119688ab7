/**
 * Gossip of binary messages on the network's two topics: `ops` (DHT ops; a missed one is caught up
 * later by anti-entropy) and `signals` (heartbeats and other loss-tolerant chatter). Messages are
 * signed by their author's peer key and only accepted when relayed by a verified peer.
 */
import { createHash } from 'node:crypto'
import type { GossipSub, Message } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId, TypedEventTarget } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import type { NetworkIdentity } from './network-identity.ts'
import type { PeerBook } from './peer-book.ts'

export type GossipChannel = 'ops' | 'signals'

export interface GossipMessage {
  data: Uint8Array
  /** The author (the message is signed with this peer's key), not the peer that relayed it. */
  from: PeerId
}

export interface RipplePubsubEvents {
  op: CustomEvent<GossipMessage>
  signal: CustomEvent<GossipMessage>
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

/** The class behind gossipsub's exported interface has getMeshPeers; the interface leaves it out. */
type GossipSubWithMesh = GossipSub & { getMeshPeers(topic: string): string[] }

export interface StartableRipplePubsub extends RipplePubsub {
  /** After libp2p started: gossipsub refuses subscriptions before. */
  start(): void
  stop(): void
}

class DefaultRipplePubsub extends TypedEventEmitter<RipplePubsubEvents> implements StartableRipplePubsub {
  private readonly topics: Record<GossipChannel, string>

  constructor(
    private readonly gossip: GossipSub,
    identity: NetworkIdentity,
    private readonly peers: PeerBook,
  ) {
    super()
    this.topics = { ops: identity.opsTopic, signals: identity.signalsTopic }
  }

  start(): void {
    for (const topic of Object.values(this.topics)) {
      // A message relayed by a peer still mid-handshake waits for it rather than being lost.
      this.gossip.topicValidators.set(topic, async (relayer) =>
        (await this.peers.whenVerified(relayer)) ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore,
      )
      this.gossip.subscribe(topic)
    }
    this.gossip.addEventListener('message', this.onMessage)
  }

  stop(): void {
    this.gossip.removeEventListener('message', this.onMessage)
    for (const topic of Object.values(this.topics)) {
      this.gossip.unsubscribe(topic)
      this.gossip.topicValidators.delete(topic)
    }
  }

  async publish(channel: GossipChannel, data: Uint8Array): Promise<number> {
    const { recipients } = await this.gossip.publish(this.topics[channel], data)
    return recipients.length
  }

  subscribers(channel: GossipChannel): PeerId[] {
    return this.gossip.getSubscribers(this.topics[channel])
  }

  meshSize(channel: GossipChannel): number {
    return (this.gossip as GossipSubWithMesh).getMeshPeers(this.topics[channel]).length
  }

  private readonly onMessage = (evt: CustomEvent<Message>) => {
    const msg = evt.detail
    // StrictSign is gossipsub's default policy: every accepted message is signed.
    if (msg.type !== 'signed') return
    const detail = { data: msg.data, from: msg.from }
    if (msg.topic === this.topics.ops) this.safeDispatchEvent('op', { detail })
    else if (msg.topic === this.topics.signals) this.safeDispatchEvent('signal', { detail })
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
 * a message whose fast id it has seen before checking its signature again, and records the id only
 * once the signature verified: only the same bytes, already verified, are skipped (in a mesh each
 * message arrives from several peers; without it each copy is verified).
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
  return new DefaultRipplePubsub(gossip, identity, peers)
}
