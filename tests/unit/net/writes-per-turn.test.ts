import { once } from 'node:events'
import { createServer, type Server, Socket } from 'node:net'
import type { ConnectionEncrypter } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { batchingWrites, writesPerTurn } from '../../../host/net/writes-per-turn.ts'

const tick = () => new Promise<void>((resolve) => process.nextTick(resolve))
/** The turn's end: the check phase, where the flush runs. */
const turnEnd = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('writes per turn', () => {
  let server: Server | null = null
  const sockets: Socket[] = []
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy()
    if (server) await new Promise((resolve) => server?.close(resolve))
    server = null
  })

  /** A connected client socket and what its peer reads, as one string once the client ends. */
  async function pair(): Promise<{ client: Socket; received: Promise<string> }> {
    let received!: Promise<string>
    server = createServer((peer) => {
      sockets.push(peer)
      peer.on('error', () => {})
      let text = ''
      peer.on('data', (chunk) => {
        text += chunk
      })
      received = once(peer, 'end').then(() => text)
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as { port: number }
    const client = new Socket()
    sockets.push(client)
    client.connect(port, '127.0.0.1')
    await Promise.all([once(client, 'connect'), once(server, 'connection')])
    return { client, received: Promise.resolve().then(() => received) }
  }

  it("holds a turn's writes, across ticks and promise chains, and sends them together at its end, in order", async () => {
    const { client, received } = await pair()
    const conn = writesPerTurn({ socket: client })
    expect(conn.socket).toBe(client)
    client.write('a')
    expect(client.writableCorked).toBe(1)
    client.write('bc')
    client.write(Buffer.from('d'))
    expect(client.writableCorked).toBe(1)
    // A write from a later tick or promise of the same turn joins them.
    await tick()
    await Promise.resolve()
    expect(client.writableCorked).toBe(1)
    client.write('e')
    expect(client.writableCorked).toBe(1)
    await turnEnd()
    expect(client.writableCorked).toBe(0)
    client.write('f')
    expect(client.writableCorked).toBe(1)
    client.end()
    expect(await received).toBe('abcdef')
  })

  it('corks a socket once however often its connection is wrapped', async () => {
    const { client } = await pair()
    writesPerTurn({ socket: client })
    writesPerTurn({ socket: client })
    client.write('x')
    expect(client.writableCorked).toBe(1)
    await turnEnd()
    expect(client.writableCorked).toBe(0)
  })

  it('keeps back-pressure: a write past the buffer answers false, and drain follows the flush', async () => {
    const { client } = await pair()
    writesPerTurn({ socket: client })
    expect(client.write(Buffer.alloc(client.writableHighWaterMark + 1))).toBe(false)
    await once(client, 'drain')
    expect(client.writableLength).toBe(0)
  })

  it('leaves a connection without a TCP socket as it is', () => {
    const relayed = { socket: { write: () => true } }
    const write = relayed.socket.write
    expect(writesPerTurn(relayed)).toBe(relayed)
    expect(relayed.socket.write).toBe(write)
  })

  it("wraps an encrypter: its protocol, and its connections' sockets corked before it secures them", async () => {
    const { client } = await pair()
    const seen: unknown[] = []
    const inner = {
      protocol: '/noise',
      secureInbound: async (connection: unknown) => {
        seen.push(connection)
        return { connection }
      },
      secureOutbound: async (connection: unknown) => {
        seen.push(connection)
        return { connection }
      },
    } as unknown as ConnectionEncrypter
    const encrypter = batchingWrites(() => inner)({})
    expect(encrypter.protocol).toBe('/noise')
    const connection = { socket: client } as never
    await encrypter.secureOutbound(connection)
    expect(seen).toEqual([connection])
    client.write('y')
    expect(client.writableCorked).toBe(1)
  })
})
