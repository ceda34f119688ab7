/**
 * GossipMeter: each gossipsub RPC a stream sends, length-prefixed as gossipsub frames it, is decoded
 * and counted by topic class and part (IHAVE, IWANT and IDONTWANT by message ids), its bytes as
 * encoded; a frame that is no RPC is counted as undecoded, and still sent.
 */
import { RPC } from '@libp2p/gossipsub/message'
import type { Metrics, Stream } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { GossipMeter } from '../../../host/metrics/gossip-parts.ts'
import { modelTopic } from '../../../host/net/model-topics.ts'
import { networkIdentity } from '../../../host/net/network-identity.ts'

const identity = networkIdentity({ name: 'parts', seed: 'gossip-parts-test' })
const MODEL = modelTopic(identity, 'tiny')
const SIGNALS = identity.signalsTopic
const OPS = identity.opsTopic
const id = (n: number) => Uint8Array.of(n, n, n, n)

/** `payload` with its unsigned varint length before it, as gossipsub sends a frame. */
function framed(payload: Uint8Array): Uint8Array {
  const prefix: number[] = []
  let n = payload.length
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  prefix.push(n)
  return Uint8Array.of(...prefix, ...payload)
}

/** A meter wrapped round a hook whose metrics track nothing, and a /meshsub stream through it. */
function meshsub(protocol = '/meshsub/1.2.0') {
  const meter = new GossipMeter()
  const sent: Uint8Array[] = []
  const stream = {
    protocol,
    send: (data: Uint8Array) => {
      sent.push(data)
      return true
    },
  } as unknown as Stream
  meter
    .wrap(() => ({ trackProtocolStream() {} }) as unknown as Metrics)()
    .trackProtocolStream(stream)
  return { meter, sent, send: (payload: Uint8Array) => stream.send(framed(payload)) }
}

const rpc = (parts: Partial<RPC>): Uint8Array => RPC.encode({ subscriptions: [], messages: [], ...parts })
const control = (parts: Partial<RPC.ControlMessage>): RPC.ControlMessage => ({
  ihave: [],
  iwant: [],
  graft: [],
  prune: [],
  idontwant: [],
  ...parts,
})

describe('GossipMeter', () => {
  const message = (topic: string, size: number): RPC.Message => ({ topic, data: new Uint8Array(size) })
  it.each<[string, Uint8Array, Record<string, number>]>([
    [
      'messages on a model topic, each one',
      rpc({ messages: [message(MODEL, 300), message(MODEL, 20)] }),
      { 'model:message': 2 },
    ],
    [
      'subscriptions by their topic',
      rpc({
        subscriptions: [
          { subscribe: true, topic: SIGNALS },
          { subscribe: true, topic: MODEL },
          { subscribe: false, topic: MODEL },
        ],
      }),
      { 'signals:subscription': 1, 'model:subscription': 2 },
    ],
    [
      'an IHAVE by its message ids',
      rpc({ control: control({ ihave: [{ topicID: OPS, messageIDs: [id(1), id(2), id(3)] }] }) }),
      { 'ops:ihave': 3 },
    ],
    [
      'IWANT and IDONTWANT ids under no topic',
      rpc({
        control: control({
          iwant: [{ messageIDs: [id(1), id(2)] }],
          idontwant: [{ messageIDs: [id(3)] }, { messageIDs: [id(4), id(5)] }],
        }),
      }),
      { 'any:iwant': 2, 'any:idontwant': 3 },
    ],
    [
      'GRAFT and PRUNE each one, a topic not Ripple’s as other',
      rpc({
        control: control({
          graft: [{ topicID: MODEL }, { topicID: '/someone/else' }],
          prune: [{ topicID: SIGNALS, peers: [] }],
        }),
      }),
      { 'model:graft': 1, 'other:graft': 1, 'signals:prune': 1 },
    ],
    ['a frame that is no RPC as undecoded', Uint8Array.of(0x0f, 0xff, 0xff), { 'any:undecoded': 1 }],
  ])('counts %s', (_, payload, counts) => {
    const { meter, sent, send } = meshsub()
    send(payload)
    expect(sent).toHaveLength(1)
    expect(Object.fromEntries([...meter.parts].map(([key, part]) => [key, part.count]))).toEqual(counts)
  })

  it('counts the bytes of each part as encoded, the frame whole when undecoded', () => {
    const { meter, send } = meshsub()
    const big = message(MODEL, 300)
    send(rpc({ messages: [big], subscriptions: [{ subscribe: true, topic: SIGNALS }] }))
    const junk = Uint8Array.of(0x0f, 0xff, 0xff)
    send(junk)
    expect(meter.parts.get('model:message')?.bytes).toBe(RPC.Message.encode(big).length)
    expect(meter.parts.get('model:message')?.bytes).toBeGreaterThan(300)
    expect(meter.parts.get('any:undecoded')?.bytes).toBe(junk.length)
  })

  it('adds up over sends, and counts no stream but gossipsub’s', () => {
    const { meter, send } = meshsub()
    for (let i = 0; i < 3; i++) send(rpc({ messages: [message(MODEL, 10)] }))
    expect(meter.parts.get('model:message')?.count).toBe(3)
    const other = meshsub('/ripple/00ff/sync/1.0.0')
    other.send(rpc({ messages: [message(MODEL, 10)] }))
    expect(other.meter.parts.size).toBe(0)
  })
})
