/**
 * The split's RPC streams, carried by the mesh. `ggml-rpc-server` has no authentication and listens
 * on loopback only; a head reaches a worker's through a libp2p protocol that only verified members
 * of the mesh may open (the agent port's streams). On the head, each worker is a local TCP port that
 * llama-server's `--rpc` connects to; each connection becomes a stream to the worker, which pipes it
 * to its rpc server. The first frame each way says which engine build the head runs and whether the
 * worker runs the same (the RPC protocol carries raw operation codes).
 */
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import type { Stream } from '@libp2p/interface'
import type { AgentPort } from '../interface/agent-port.ts'
import { parseWireJson } from '../interface/nesting-depth.ts'
import type { Logger } from '../log/logger.ts'
import { framedStream } from '../net/framed-stream.ts'
import { connectWorker, type RpcWorker } from './rpc-worker.ts'
import { buildMismatch } from './split-plan.ts'

export const RPC_TUNNEL_PROTOCOL = 'rpc-tunnel/1.0.0'

interface Hello {
  build: string
}
type Reply = { ok: true } | { ok: false; error: string }

/** Serves this peer's rpc server to the mesh's heads. */
export async function serveRpcTunnel(
  agents: AgentPort<Stream>,
  worker: RpcWorker,
  build: () => Promise<string>,
  logger: Logger,
): Promise<void> {
  await agents.handle(RPC_TUNNEL_PROTOCOL, async (stream, head) => {
    const lp = framedStream(stream)
    try {
      const hello = parseWireJson(
        new TextDecoder().decode((await lp.read()).subarray()),
        'a tunnel hello',
      ) as Hello
      const ours = await build()
      if (hello.build !== ours) {
        await lp.write(frame({ ok: false, error: `this worker ${buildMismatch(ours, hello.build)}` }))
        await stream.close()
        return
      }
      const socket = connectWorker(await worker.port())
      // Every token is a few small RPC round trips: Nagle's delay would wait on each.
      socket.setNoDelay(true)
      await once(socket, 'connect')
      await lp.write(frame({ ok: true }))
      logger.info({ head }, 'serving a split head over the RPC tunnel')
      pipe(lp.unwrap(), socket, () => {})
    } catch (err) {
      logger.warn({ head, err: (err as Error).message }, 'RPC tunnel failed')
      stream.abort(err as Error)
    }
  })
}

/** Thrown into the head's load when a worker refuses the tunnel (another build) or cannot be reached. */
export class TunnelRefusedError extends Error {
  static override readonly name = 'TunnelRefusedError'
  constructor(
    readonly worker: string,
    reason: string,
  ) {
    super(`split worker ${worker}: ${reason}`)
    this.name = 'TunnelRefusedError'
  }
}

/** One worker as the head sees it: a loopback port for `--rpc`, the bytes carried, and its end. */
export class RpcTunnel {
  /** The worker's agent key. */
  readonly agent: string
  readonly port: number
  /** Bytes carried both ways, for the figures. */
  bytes = 0
  /** Why the tunnel broke (the worker went away), once it did. */
  broken: string | null = null
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  readonly #streams = new Set<Stream>()

  private constructor(agent: string, port: number, server: Server) {
    this.agent = agent
    this.port = port
    this.#server = server
  }

  /** Checks the worker (same build, reachable), then listens on loopback for llama-server's connections. */
  static async open(
    agents: AgentPort<Stream>,
    agent: string,
    build: string,
    signal?: AbortSignal,
  ): Promise<RpcTunnel> {
    // A first exchange proves the worker before llama-server relies on it.
    const probe = await RpcTunnel.#connect(agents, agent, build, signal)
    await probe.close()
    const server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const address = server.address()
    const tunnel = new RpcTunnel(agent, typeof address === 'object' && address ? address.port : 0, server)
    server.on('connection', (socket) => tunnel.#carry(socket, agents, build))
    return tunnel
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    for (const stream of this.#streams) stream.abort(new Error('the split was stopped'))
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  async #carry(socket: Socket, agents: AgentPort<Stream>, build: string): Promise<void> {
    this.#sockets.add(socket)
    socket.setNoDelay(true)
    socket.pause()
    try {
      const stream = await RpcTunnel.#connect(agents, this.agent, build)
      this.#streams.add(stream)
      pipe(
        stream,
        socket,
        (n) => {
          this.bytes += n
        },
        (why) => {
          this.broken ??= why
        },
      )
    } catch (err) {
      this.broken ??= (err as Error).message
      socket.destroy()
    }
  }

  static async #connect(
    agents: AgentPort<Stream>,
    agent: string,
    build: string,
    signal?: AbortSignal,
  ): Promise<Stream> {
    let stream: Stream
    try {
      stream = await agents.open(agent, RPC_TUNNEL_PROTOCOL, signal)
    } catch (err) {
      throw new TunnelRefusedError(agent, (err as Error).message)
    }
    const lp = framedStream(stream)
    await lp.write(frame({ build }))
    const reply = parseWireJson(
      new TextDecoder().decode((await lp.read()).subarray()),
      'a tunnel reply',
    ) as Reply
    if (!reply.ok) {
      stream.abort(new Error(reply.error))
      throw new TunnelRefusedError(agent, reply.error)
    }
    return lp.unwrap()
  }
}

const frame = (value: Hello | Reply) => new TextEncoder().encode(JSON.stringify(value))

/** Bytes both ways until either side ends; the other side is then ended too. */
function pipe(
  stream: Stream,
  socket: Socket,
  count: (bytes: number) => void,
  onBreak: (why: string) => void = () => {},
): void {
  let ended = false
  const end = (why: string | null) => {
    if (ended) return
    ended = true
    if (why) onBreak(why)
    socket.destroy()
    if (why) stream.abort(new Error(why))
    else void stream.close().catch(() => {})
  }
  socket.on('data', (data: Buffer) => {
    count(data.length)
    if (!stream.send(data)) {
      socket.pause()
      stream.onDrain().then(
        () => socket.resume(),
        () => end('the stream to the worker closed'),
      )
    }
  })
  socket.once('error', (err) => end(err.message))
  socket.once('close', () => end(null))
  socket.resume()
  void (async () => {
    try {
      for await (const chunk of stream) {
        const bytes = chunk.subarray()
        count(bytes.length)
        if (!socket.write(bytes)) await once(socket, 'drain')
      }
      end('the other side closed the tunnel')
    } catch (err) {
      end(`the tunnel broke: ${(err as Error).message}`)
    }
  })()
}
