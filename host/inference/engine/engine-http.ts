/**
 * POSTs to one llama-server over node:http, on keep-alive connections of its own. Not fetch: on this
 * path its web streams cost about 2 ms more to a streamed answer's first token (llama-server called
 * both ways from one process, 2-core machine), a tenth of a small model's first token.
 *
 * llama-server closes the connection after every streamed answer while its headers say keep-alive
 * (its stream reports the end as a cancel: tools/server/server-http.cpp's chunk provider returns false
 * after sink.done(), which cpp-httplib reads as Canceled and ends the keep-alive loop; whole answers
 * keep theirs, and engine-connections.test.ts notices when streamed ones do too): a request
 * put on that connection failed with "socket hang up", and under load (16 at once, 400 requests)
 * each streamed request after a connection's first was sent again, and now and then all three tries
 * failed. So a streamed request asks for `Connection: close`: its connection is never offered again.
 */
import { Agent, type IncomingMessage, request } from 'node:http'

export interface EngineResponse {
  status: number
  ok: boolean
  /** The body as it arrives; a connection lost mid-answer throws from the iteration. */
  body: AsyncIterable<Uint8Array>
  json(): Promise<unknown>
}

export interface EngineHttpOptions {
  /**
   * Connections open at once (default 16): what the server has HTTP threads for; requests beyond
   * wait here, not in a thread the server starts for each.
   */
  maxSockets?: number
}

/** cpp-httplib ends a connection idle for 5 s; an idle one is closed here first, never reused as it ends. */
const IDLE_MS = 4_000

export class EngineHttp {
  readonly #url: string
  readonly #headers: Record<string, string>
  readonly #agent: Agent
  #resent = 0

  constructor(url: string, headers: Record<string, string>, options: EngineHttpOptions = {}) {
    this.#url = url
    this.#headers = headers
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 16, timeout: IDLE_MS })
  }

  /** Requests sent again because the kept-alive connection they were put on had been closed. */
  get resent(): number {
    return this.#resent
  }

  /**
   * A keep-alive connection the server closed just as it was reused (it ends one after so many
   * requests) fails before the server read anything: sent again, up to twice, each time on another.
   */
  async post(path: string, body: unknown, signal?: AbortSignal): Promise<EngineResponse> {
    const payload = Buffer.from(JSON.stringify(body))
    const streamed = (body as { stream?: unknown } | null)?.stream === true
    for (let tries = 1; ; tries++) {
      try {
        return await this.#post(path, payload, streamed, signal)
      } catch (err) {
        const reused = (err as { reusedSocket?: boolean }).reusedSocket === true
        if (!reused || signal?.aborted || tries === 3) throw err
        this.#resent += 1
      }
    }
  }

  /** Ends the idle connections (the server is going away). */
  close(): void {
    this.#agent.destroy()
  }

  #post(
    path: string,
    payload: Buffer,
    streamed: boolean,
    signal: AbortSignal | undefined,
  ): Promise<EngineResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.#url}${path}`,
        {
          method: 'POST',
          agent: this.#agent,
          headers: {
            ...this.#headers,
            'content-length': payload.length,
            ...(streamed ? { connection: 'close' } : {}),
          },
          ...(signal ? { signal } : {}),
        },
        (res) => resolve(engineResponse(res, signal)),
      )
      req.on('error', (err) => {
        Object.assign(err, { reusedSocket: req.reusedSocket })
        reject(err)
      })
      req.end(payload)
    })
  }
}

function engineResponse(res: IncomingMessage, signal: AbortSignal | undefined): EngineResponse {
  const status = res.statusCode ?? 0
  return {
    status,
    ok: status >= 200 && status < 300,
    body: chunks(res, signal),
    async json() {
      const chunks: Buffer[] = []
      for await (const chunk of res) chunks.push(chunk as Buffer)
      return JSON.parse(Buffer.concat(chunks).toString('utf8'))
    },
  }
}

/** The body's chunks; stopped by the signal, it fails with the signal's reason (as fetch's does). */
async function* chunks(res: IncomingMessage, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of res) yield chunk as Uint8Array
  } catch (err) {
    throw signal?.aborted ? signal.reason : err
  }
}
