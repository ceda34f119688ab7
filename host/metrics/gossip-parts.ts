/**
 * What a peer's gossip is made of: every gossipsub RPC it sends, decoded, counted by topic class
 * (the mesh-wide signals topic, the model topics, ops) and by part (messages published or forwarded,
 * IHAVE, IWANT and IDONTWANT message ids, GRAFT and PRUNE, subscriptions), with the bytes of each part
 * as encoded. Sends only: over a mesh every RPC sent is one received, so the mean a peer sends is the
 * mean it receives. The protocol meter (traffic-meter.ts) says how much gossip a peer pays; this says
 * which of it grows with the mesh. A daemon shows it in /metrics (`ripple_net_gossip_sent_total`); the
 * mesh simulation reads it whole.
 */
import { RPC } from '@libp2p/gossipsub/message'
import type { Metrics, Stream } from '@libp2p/interface'
import type { GossipPartSent } from '../interface/network-port.ts'

export type GossipPart = GossipPartSent

/** The topic class of a gossipsub topic id of a Ripple network; 'any' for a part that names no topic. */
export function topicClass(topic: string | undefined): string {
  if (topic === undefined) return 'any'
  if (topic.includes('/signals/')) return 'signals'
  if (topic.includes('/model/')) return 'model'
  if (topic.includes('/ops/')) return 'ops'
  return 'other'
}

/** A length-prefixed frame's payload (gossipsub sends one varint-prefixed RPC per send). */
function unprefixed(frame: Uint8Array): Uint8Array {
  let at = 0
  while (at < frame.length && (frame[at]! & 0x80) !== 0) at++
  return frame.subarray(at + 1)
}

export class GossipMeter {
  /**
   * By `<topic class>:<part>`, part one of message, subscription, graft, prune, ihave, iwant,
   * idontwant (counted in message ids) or undecoded (a frame that is no RPC); IWANT and IDONTWANT
   * name no topic (class 'any').
   */
  readonly parts = new Map<string, GossipPart>()

  /** Wraps a metrics hook: every gossipsub stream's sends are decoded and counted here too. */
  wrap(hook: () => Metrics): () => Metrics {
    return () => {
      const metrics = hook()
      const track = metrics.trackProtocolStream.bind(metrics)
      metrics.trackProtocolStream = (stream: Stream) => {
        track(stream)
        if (!stream.protocol.startsWith('/meshsub/')) return
        const send = stream.send.bind(stream)
        stream.send = (data) => {
          this.#count(unprefixed(data.subarray()))
          return send(data)
        }
      }
      return metrics
    }
  }

  #count(bytes: Uint8Array): void {
    let rpc: RPC
    try {
      rpc = RPC.decode(bytes)
    } catch {
      this.#add('any:undecoded', 1, bytes.length)
      return
    }
    for (const message of rpc.messages)
      this.#add(`${topicClass(message.topic)}:message`, 1, RPC.Message.encode(message).length)
    for (const sub of rpc.subscriptions)
      this.#add(`${topicClass(sub.topic)}:subscription`, 1, RPC.SubOpts.encode(sub).length)
    const control = rpc.control
    if (control === undefined) return
    for (const ihave of control.ihave)
      this.#add(
        `${topicClass(ihave.topicID)}:ihave`,
        ihave.messageIDs.length,
        RPC.ControlIHave.encode(ihave).length,
      )
    for (const iwant of control.iwant)
      this.#add('any:iwant', iwant.messageIDs.length, RPC.ControlIWant.encode(iwant).length)
    for (const idontwant of control.idontwant)
      this.#add('any:idontwant', idontwant.messageIDs.length, RPC.ControlIDontWant.encode(idontwant).length)
    for (const graft of control.graft)
      this.#add(`${topicClass(graft.topicID)}:graft`, 1, RPC.ControlGraft.encode(graft).length)
    for (const prune of control.prune)
      this.#add(`${topicClass(prune.topicID)}:prune`, 1, RPC.ControlPrune.encode(prune).length)
  }

  #add(key: string, count: number, bytes: number): void {
    const part = this.parts.get(key) ?? { count: 0, bytes: 0 }
    part.count += count
    part.bytes += bytes
    this.parts.set(key, part)
  }
}
