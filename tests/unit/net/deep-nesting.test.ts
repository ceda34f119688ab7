import { TypedEventEmitter } from 'main-event'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGossipSignalTransport } from '../../../host/conductor/embedded/replication/index.ts'
import { decodeMsgpack, encodeCanonical } from '../../../host/identity/canonical.ts'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { openAgentKey } from '../../../host/identity/keystore.ts'
import type { Signal } from '../../../host/interface/conductor-port.ts'
import {
  checkDepth,
  MAX_WIRE_DEPTH,
  parseWireJson,
  TooDeepError,
} from '../../../host/interface/nesting-depth.ts'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { RemoteHandlerError } from '../../../host/net/errors.ts'
import { decodePeerList, encodePeerList } from '../../../host/net/peer-exchange.ts'
import type { GossipVerdict, RipplePubsub, RipplePubsubEvents } from '../../../host/net/pubsub.ts'
import { tempDir } from '../conductor/fixtures/test-cell.ts'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

const DEEP = 100_000
const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
/** A msgpack array holding an array … `depth` deep (built as bytes: encoding it would overflow). */
const deepMsgpack = (depth: number) => new Uint8Array([...new Uint8Array(depth).fill(0x91), 0x90])
const nested = (depth: number): unknown => {
  let value: unknown = []
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

describe('a peer’s deeply nested value is refused as it is decoded', () => {
  it('refuses JSON and msgpack 100,000 levels deep with TooDeepError, and takes MAX_WIRE_DEPTH', () => {
    expect(() => parseWireJson(deepJson(DEEP), 'a peer list')).toThrow(
      new TooDeepError('a peer list', MAX_WIRE_DEPTH),
    )
    expect(() => decodeMsgpack(deepMsgpack(DEEP))).toThrow(TooDeepError)
    expect(() => checkDepth(nested(MAX_WIRE_DEPTH), 'a value')).toThrow(TooDeepError)
    expect(checkDepth(nested(MAX_WIRE_DEPTH - 1), 'a value')).toEqual(nested(MAX_WIRE_DEPTH - 1))
    expect(decodeMsgpack(encodeCanonical({ bytes: new Uint8Array(100_000) }))).toEqual({
      bytes: new Uint8Array(100_000),
    })
  })

  describe('over request/response', () => {
    const network = testNetwork()
    let client: RippleNode
    let server: RippleNode
    beforeAll(async () => {
      server = await loopbackNode({ network, start: false })
      await server.rpc.handle('list/1.0.0', async (req) => encodePeerList(decodePeerList(req)))
      await server.start()
      client = await loopbackNode({ network, peers: server.multiaddrs().map(String) })
      await waitFor('the connection', () => connectedTo(client, [server]) && connectedTo(server, [client]))
    })
    afterAll(async () => {
      await stopAll([client, server])
    })

    it('answers the peer with a clear error, and its next request still', async () => {
      const deep = new TextEncoder().encode(deepJson(DEEP))
      const refused = client.rpc.request(server.peerId, 'list/1.0.0', deep)
      await expect(refused).rejects.toThrow(RemoteHandlerError)
      await expect(refused).rejects.toThrow(`a peer list is nested deeper than ${MAX_WIRE_DEPTH} levels`)
      const fine = encodePeerList({ peers: [] })
      expect(decodePeerList(await client.rpc.request(server.peerId, 'list/1.0.0', fine))).toEqual({
        peers: [],
      })
    })
  })

  describe('over gossip signals', () => {
    class Channel extends TypedEventEmitter<RipplePubsubEvents> implements RipplePubsub {
      readonly verdicts: GossipVerdict[] = []
      async publish() {
        return 0
      }
      subscribers() {
        return []
      }
      meshSize() {
        return 0
      }
      receive(data: Uint8Array) {
        const from = { toString: () => 'a-peer' } as never
        this.safeDispatchEvent('signal', {
          detail: { data, from, verdict: (v: GossipVerdict) => this.verdicts.push(v) },
        })
      }
    }

    /** A signal signed by `key` whose payload is the msgpack bytes `payload`, spliced in whole. */
    function signedSignal(key: Awaited<ReturnType<typeof openAgentKey>>, payload: Uint8Array): Uint8Array {
      const marker = 'PAYLOAD-MARKER'
      const template = encodeCanonical({
        dna: 'agent_registry',
        from: key.agentPubKey,
        payload: marker,
        ts: Date.now() * 1000,
      })
      const at = Buffer.from(template).indexOf(Buffer.from(marker)) - 1
      const body = new Uint8Array([
        ...template.subarray(0, at),
        ...payload,
        ...template.subarray(at + 1 + marker.length),
      ])
      return encodeCanonical({ v: 1, body, sig: key.sign(body) })
    }

    it('rejects a 100,000-deep payload, and a throwing handler does not stop the handlers after it', async () => {
      const [ours, theirs] = await Promise.all([1, 2].map(async () => openAgentKey(await tempDir())))
      const channel = new Channel()
      const transport = createGossipSignalTransport({ pubsub: channel, key: ours! })
      const heard: Signal[] = []
      transport.onReceive(() => {
        throw new RangeError('Maximum call stack size exceeded')
      })
      transport.onReceive((signal) => heard.push(signal))

      channel.receive(signedSignal(theirs!, deepMsgpack(DEEP)))
      expect(channel.verdicts).toEqual(['reject'])
      expect(heard).toEqual([])

      channel.receive(signedSignal(theirs!, encodeCanonical({ cpu_pct: 5 })))
      expect(channel.verdicts).toEqual(['reject', 'accept'])
      expect(heard).toEqual([
        { dna: 'agent_registry', from: encodeHashB64(theirs!.agentPubKey), payload: { cpu_pct: 5 } },
      ])
      await transport.close()
    })
  })
})
