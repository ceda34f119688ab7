/**
 * The private network's own protector (host/net/private-network.ts) between real libp2p nodes on
 * loopback: it speaks @libp2p/pnet's wire format, carries what made pnet's WebAssembly cipher throw
 * inside a socket's data handler (ending the daemon), and a failure in a connection's data path
 * closes that connection with the reason logged while the process goes on.
 */
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { ConnectionProtector, Libp2p, Stream } from '@libp2p/interface'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import { createLibp2p } from 'libp2p'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Logger } from '../../../host/log/logger.ts'
import { type PrivateNetworkOptions, privateNetwork, swarmKey } from '../../../host/net/private-network.ts'
import { type Keystream, XSalsa20Stream } from '../../../host/net/xsalsa20-stream.ts'
import { waitFor } from './net-fixtures.ts'

const MiB = 1024 * 1024
const ECHO = '/test/echo/1.0.0'
const BULK = '/test/bulk/1.0.0'

describe('XSalsa20 as one stream over many calls', () => {
  const key = randomBytes(32)
  const nonce = randomBytes(24)

  it('gives the bytes of one pass over the whole, however the stream is cut', () => {
    const data = randomBytes(3 * MiB)
    const whole = xsalsa20(key, nonce, data)
    const stream = new XSalsa20Stream(nonce, key)
    const parts: Uint8Array[] = []
    const cuts = [1, 63, 64, 65, 7, 128, 100_000, 3, 65_536, 1_000_001]
    for (let at = 0, i = 0; at < data.length; i++) {
      const size = Math.min(cuts[i % cuts.length]!, data.length - at)
      // Sometimes one chunk, sometimes several (a Uint8ArrayList's parts).
      const piece = data.subarray(at, at + size)
      const chunks = i % 2 === 0 ? [piece] : [piece.subarray(0, size >> 1), piece.subarray(size >> 1)]
      parts.push(stream.update(chunks, size))
      at += size
    }
    expect(Buffer.concat(parts).equals(Buffer.from(whole))).toBe(true)
  })

  it('takes a chunk over 64 MiB in one call (the cap of the cipher @libp2p/pnet used)', () => {
    const data = new Uint8Array(80 * MiB).fill(0x5a)
    const sealed = new XSalsa20Stream(nonce, key).update([data], data.length)
    const opened = new XSalsa20Stream(nonce, key).update([sealed], sealed.length)
    expect(Buffer.from(opened).equals(Buffer.from(data))).toBe(true)
  })
})

describe('the private network protector', () => {
  const psk = randomBytes(32).toString('hex')
  const nodes: Libp2p[] = []
  const uncaught: unknown[] = []
  const recordUncaught = (err: unknown) => uncaught.push(err)
  beforeAll(() => {
    process.on('uncaughtException', recordUncaught)
  })
  afterAll(() => {
    process.off('uncaughtException', recordUncaught)
  })
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
    expect(uncaught).toEqual([])
  })

  async function node(protector: (components: never) => ConnectionProtector): Promise<Libp2p> {
    const n = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionProtector: protector,
      connectionManager: { inboundUpgradeTimeout: 3_000 },
    })
    nodes.push(n)
    await n.handle(ECHO, async (stream) => {
      for await (const chunk of stream) if (!stream.send(chunk)) await stream.onDrain()
      await stream.close()
    })
    await n.handle(BULK, async (stream) => {
      await Promise.all([drain(stream), pump(stream, 16 * MiB)])
      await stream.close()
    })
    return n
  }

  /** Sends `bytes` through the echo protocol and returns what came back. */
  async function echo(from: Libp2p, to: Libp2p, bytes: Uint8Array): Promise<Buffer> {
    const stream = await from.dialProtocol(to.getMultiaddrs()[0]!, ECHO)
    const back = (async () => {
      const parts: Uint8Array[] = []
      for await (const chunk of stream) parts.push(chunk.subarray())
      return Buffer.concat(parts)
    })()
    for (let at = 0; at < bytes.length; at += 50_000)
      if (!stream.send(bytes.subarray(at, at + 50_000))) await stream.onDrain()
    await stream.close()
    return back
  }

  it('talks to a peer running @libp2p/pnet, either side dialling (the same wire format)', async () => {
    const ours = await node(privateNetwork(psk))
    const theirs = await node(preSharedKey({ psk: swarmKey(psk) }))
    const bytes = randomBytes(MiB)
    expect((await echo(ours, theirs, bytes)).equals(bytes)).toBe(true)
    expect((await echo(theirs, ours, bytes)).equals(bytes)).toBe(true)
  })

  it('carries 64 MiB each way over four streams at once (what threw in @libp2p/pnet)', async () => {
    const [a, b] = await Promise.all([node(privateNetwork(psk)), node(privateNetwork(psk))])
    const received = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const stream = await a.dialProtocol(b.getMultiaddrs()[0]!, BULK)
        const [got] = await Promise.all([drain(stream), pump(stream, 16 * MiB).then(() => stream.close())])
        return got
      }),
    )
    expect(received).toEqual([16 * MiB, 16 * MiB, 16 * MiB, 16 * MiB])
  }, 60_000)

  /** A node whose cipher fails (throws) or turns bytes to garbage once `armed` is set. */
  async function faulty(mode: 'throw' | 'garble') {
    const log: string[] = []
    const logger = { warn: (_fields: object, message: string) => log.push(message) } as unknown as Logger
    const fault = { armed: false }
    const keystream: PrivateNetworkOptions['keystream'] = (nonce, key): Keystream => {
      const real = new XSalsa20Stream(nonce, key)
      return {
        update(chunks, byteLength) {
          const out = real.update(chunks, byteLength)
          if (!fault.armed) return out
          if (mode === 'throw') throw new Error('the cipher failed (injected)')
          return out.map((b) => b ^ 0xff)
        },
      }
    }
    return { n: await node(privateNetwork(psk, { logger, keystream })), log, fault }
  }

  it('a failing decrypt closes that connection, with the reason logged; the node serves the next one', async () => {
    const a = await node(privateNetwork(psk))
    const b = await faulty('throw')
    expect((await echo(a, b.n, randomBytes(1000))).length).toBe(1000)
    const stream = await a.dialProtocol(b.n.peerId, ECHO)
    b.fault.armed = true
    stream.send(randomBytes(200_000))
    await waitFor('the faulty side to close the connection', () => b.n.getConnections(a.peerId).length === 0)
    expect(b.log.join('\n')).toMatch(
      /private network connection closed: decrypting .* failed: the cipher failed/,
    )
    // The other side learns of the close when its socket ends; until then it would reuse the dead connection.
    await waitFor('the other side to see it closed', () => a.getConnections(b.n.peerId).length === 0)
    b.fault.armed = false
    const bytes = randomBytes(10_000)
    expect((await echo(a, b.n, bytes)).equals(bytes)).toBe(true)
  })

  it('a failing encrypt closes that connection too, and the stream writer gets no exception', async () => {
    const a = await faulty('throw')
    const b = await node(privateNetwork(psk))
    const stream: Stream = await a.n.dialProtocol(b.getMultiaddrs()[0]!, ECHO)
    a.fault.armed = true
    expect(() => stream.send(randomBytes(1000))).not.toThrow()
    await waitFor('the faulty side to close the connection', () => a.n.getConnections(b.peerId).length === 0)
    expect(a.log.join('\n')).toMatch(
      /private network connection closed: encrypting .* failed: the cipher failed/,
    )
  })

  it('frames that decrypt to garbage (a broken or hostile peer) close that connection', async () => {
    const a = await node(privateNetwork(psk))
    const b = await faulty('garble')
    await echo(a, b.n, randomBytes(1000))
    const stream = await a.dialProtocol(b.n.peerId, ECHO)
    b.fault.armed = true
    // Enough for whole noise messages: a length prefix turned to garbage asks for more bytes first.
    stream.send(randomBytes(200_000))
    await waitFor('the garbled connection to close', () => b.n.getConnections(a.peerId).length === 0)
    await waitFor('the other side to see it closed', () => a.getConnections(b.n.peerId).length === 0)
    b.fault.armed = false
    expect((await echo(a, b.n, randomBytes(100))).length).toBe(100)
  })

  it('garbage instead of a handshake closes the socket; the node serves the next peer', async () => {
    const b = await node(privateNetwork(psk))
    const port = Number(/\/tcp\/(\d+)/.exec(b.getMultiaddrs()[0]!.toString())?.[1])
    const socket = connect(port, '127.0.0.1')
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.on('error', () => {})
    socket.write(randomBytes(24 + 100_000))
    await closed
    const a = await node(privateNetwork(psk))
    expect((await echo(a, b, randomBytes(100))).length).toBe(100)
  })
})

async function pump(stream: Stream, bytes: number): Promise<void> {
  const chunk = new Uint8Array(4 * MiB).fill(7)
  for (let sent = 0; sent < bytes; sent += chunk.length) if (!stream.send(chunk)) await stream.onDrain()
}

async function drain(stream: Stream): Promise<number> {
  let got = 0
  for await (const chunk of stream) got += chunk.byteLength
  return got
}
