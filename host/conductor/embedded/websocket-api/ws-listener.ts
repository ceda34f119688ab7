/**
 * A loopback WebSocket listener as Holochain's interfaces bind one: plain ws:// on 127.0.0.1 and ::1
 * (same port), binary frames, and the HTTP `Origin` header checked at the upgrade (400 when missing or
 * not allowed, as holochain_websocket's ConnectCallback answers).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { type WebSocket, WebSocketServer } from 'ws'

/** Holochain's limit per message (64 MiB). */
const MAX_PAYLOAD = 64 * 1024 * 1024
/** Holochain pings every 5 s and closes a socket whose ping cannot be sent. */
const PING_MS = 5_000

/** `allowed_origins`: "*" allows any; otherwise a comma-separated, trimmed, exact-match list. */
export function originAllowed(allowedOrigins: string, origin: string | undefined): boolean {
  if (origin === undefined) return false
  if (allowedOrigins.trim() === '*') return true
  return allowedOrigins
    .split(',')
    .map((o) => o.trim())
    .includes(origin)
}

export interface WsListener {
  readonly port: number
  close(): Promise<void>
}

export interface WsListenerInit {
  /** 0 picks a free port. */
  port: number
  allowedOrigins: string
  onConnection(socket: WebSocket): void
}

export async function listenWebSocket(init: WsListenerInit): Promise<WsListener> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD })
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const origin = req.headers.origin
    if (!originAllowed(init.allowedOrigins, origin)) {
      const reason = origin === undefined ? 'Missing `Origin` header' : `Origin ${origin} is not allowed`
      const cors = origin === undefined ? '' : `Access-Control-Allow-Origin: ${init.allowedOrigins}\r\n`
      socket.end(
        `HTTP/1.1 400 Bad Request\r\n${cors}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\nConnection: close\r\n\r\n${reason}`,
      )
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => init.onConnection(ws))
  }
  const servers: Server[] = []
  const listen = (host: string, port: number) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer((_req, res) => res.writeHead(426).end('WebSocket only'))
      server.on('upgrade', onUpgrade)
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve(server)
      })
    })
  const v4 = await listen('127.0.0.1', init.port)
  servers.push(v4)
  const port = (v4.address() as { port: number }).port
  // ::1 too, as the conductor binds both; a machine without IPv6 loopback keeps the IPv4 one.
  await listen('::1', port).then(
    (v6) => servers.push(v6),
    () => undefined,
  )
  const ping = setInterval(() => {
    for (const client of wss.clients) client.ping()
  }, PING_MS)
  ping.unref()
  return {
    port,
    async close() {
      clearInterval(ping)
      for (const client of wss.clients) client.terminate()
      await Promise.all(
        servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()).closeAllConnections())),
      )
      wss.close()
    },
  }
}
