import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import {
  MessageTooLargeError,
  PeerUnreachableError,
  RemoteHandlerError,
  RequestRefusedError,
  RequestTimeoutError,
} from '../../../host/net/errors.ts'
import { MAX_MESSAGE_BYTES, type StoppableRequestResponse } from '../../../host/net/request-response.ts'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)
/** When `node` last used `peer`, as the connection trimmer reads it. */
const lastUse = (node: RippleNode, peer: RippleNode) =>
  (node.rpc as StoppableRequestResponse).lastActiveAt(peer.peerId) ?? 0

describe('request/response', () => {
  const network = testNetwork()
  let client: RippleNode
  let server: RippleNode

  beforeAll(async () => {
    // Handlers before start, so no request can arrive ahead of them.
    server = await loopbackNode({ network, start: false })
    await server.rpc.handle('echo/1.0.0', async (req, peer) =>
      bytes(`${peer.toString().slice(-4)}:${text(req)}`),
    )
    await server.rpc.handle('fail/1.0.0', async () => {
      throw new Error('no such op')
    })
    await server.rpc.handle('huge/1.0.0', async () => new Uint8Array(MAX_MESSAGE_BYTES))
    await server.rpc.handle('slow/1.0.0', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      return bytes('late')
    })
    await server.start()
    client = await loopbackNode({ network, peers: server.multiaddrs().map(String), requestTimeoutMs: 3_000 })
    await waitFor('the connection', () => connectedTo(client, [server]) && connectedTo(server, [client]))
  })
  afterAll(async () => {
    await stopAll([client, server])
  })

  it('round-trips a request, and tells the handler who asked', async () => {
    const res = await client.rpc.request(server.peerId, 'echo/1.0.0', bytes('hello'))
    expect(text(res)).toBe(`${client.peerId.toString().slice(-4)}:hello`)
  })

  it('reuses one stream for sequential requests', async () => {
    const protocol = client.identity.protocol('echo/1.0.0')
    for (let i = 0; i < 20; i++) {
      expect(text(await client.rpc.request(server.peerId, 'echo/1.0.0', bytes(`${i}`)))).toMatch(
        new RegExp(`:${i}$`),
      )
    }
    const streams = client.libp2p.getConnections(server.peerId).flatMap((c) => c.streams)
    expect(streams.filter((s) => s.protocol === protocol)).toHaveLength(1)
  })

  it('answers concurrent requests, each with its own response', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => client.rpc.request(server.peerId, 'echo/1.0.0', bytes(`c${i}`))),
    )
    expect(answers.map((res) => text(res).split(':')[1])).toEqual(answers.map((_, i) => `c${i}`))
  })

  it("carries the handler's error back as RemoteHandlerError, and the stream stays usable", async () => {
    const err = await client.rpc.request(server.peerId, 'fail/1.0.0', bytes('x')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RemoteHandlerError)
    expect((err as RemoteHandlerError).remoteMessage).toBe('no such op')
    await expect(client.rpc.request(server.peerId, 'fail/1.0.0', bytes('x'))).rejects.toBeInstanceOf(
      RemoteHandlerError,
    )
  })

  it('refuses frames over the size limit on both sides', async () => {
    await expect(
      client.rpc.request(server.peerId, 'echo/1.0.0', new Uint8Array(MAX_MESSAGE_BYTES)),
    ).rejects.toBeInstanceOf(MessageTooLargeError)
    const err = await client.rpc.request(server.peerId, 'huge/1.0.0', bytes('x')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RemoteHandlerError)
    expect((err as RemoteHandlerError).remoteMessage).toMatch(/exceeds/)
  })

  it('refuses a protocol the peer does not serve', async () => {
    await expect(client.rpc.request(server.peerId, 'nothing/1.0.0', bytes('x'))).rejects.toBeInstanceOf(
      RequestRefusedError,
    )
  })

  it('times out a slow answer with RequestTimeoutError (a PeerUnreachableError)', async () => {
    const err = await client.rpc
      .request(server.peerId, 'slow/1.0.0', bytes('x'), { timeoutMs: 200 })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RequestTimeoutError)
    expect(err).toBeInstanceOf(PeerUnreachableError)
    // The abandoned stream was dropped, so the next request gets its own answer.
    expect(text(await client.rpc.request(server.peerId, 'echo/1.0.0', bytes('after')))).toMatch(/:after$/)
  })

  it("rejects with the caller's abort reason", async () => {
    const controller = new AbortController()
    const pending = client.rpc.request(server.peerId, 'slow/1.0.0', bytes('x'), { signal: controller.signal })
    controller.abort(new Error('caller gave up'))
    await expect(pending).rejects.toThrow('caller gave up')
  })

  it('counts an upkeep exchange as no use of the peer on either side once it ended, unlike a request', async () => {
    // A pair of its own: no earlier request still ends on it. Every node serves its upkeep protocols
    // (anti-entropy, peer exchange), so both sides know this one as upkeep.
    const [a, b] = await Promise.all([
      loopbackNode({ network, start: false }),
      loopbackNode({ network, start: false }),
    ])
    for (const node of [a, b]) {
      await node.rpc.handle('tick/1.0.0', async () => bytes('tock'), { use: 'upkeep' })
      await node.rpc.handle('echo/1.0.0', async (req) => req)
      await node.start()
    }
    try {
      await a.libp2p.dial(b.multiaddrs())
      await waitFor('the connection', () => connectedTo(a, [b]) && connectedTo(b, [a]))
      await a.rpc.request(b.peerId, 'echo/1.0.0', bytes('use'))
      const tickAt = Date.now() + 1
      await new Promise((resolve) => setTimeout(resolve, 5))
      expect(text(await a.rpc.request(b.peerId, 'tick/1.0.0', bytes('tick')))).toBe('tock')
      // Peer exchange (upkeep too) may be running: in flight it holds the peer, so it is waited out.
      await waitFor('both sides to hold the echo as the last use', () =>
        [lastUse(a, b), lastUse(b, a)].every((at) => at > 0 && at < tickAt),
      )
      const echoAt = Date.now()
      await a.rpc.request(b.peerId, 'echo/1.0.0', bytes('use'))
      expect(lastUse(a, b)).toBeGreaterThanOrEqual(echoAt)
      await waitFor('the answerer to count it', () => lastUse(b, a) >= echoAt)
    } finally {
      await stopAll([a, b])
    }
  })

  it('gives PeerUnreachableError for a stopped peer, within the timeout', async () => {
    const gone = await loopbackNode({ network, peers: client.multiaddrs().map(String), start: false })
    await gone.rpc.handle('echo/1.0.0', async (req) => req)
    await gone.start()
    await waitFor('the connection', () => connectedTo(client, [gone]))
    expect(text(await client.rpc.request(gone.peerId, 'echo/1.0.0', bytes('up')))).toBe('up')
    await gone.stop()
    const started = Date.now()
    const err = await client.rpc
      .request(gone.peerId, 'echo/1.0.0', bytes('down'), { timeoutMs: 2_000 })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PeerUnreachableError)
    expect(Date.now() - started).toBeLessThan(2_500)
  })
})
