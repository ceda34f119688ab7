/**
 * The daemon's connections to a real llama-server under a burst: llama-server closes a connection
 * after each streamed answer without saying so, and a request put on such a connection failed with
 * "socket hang up" (2-3 of 400 `/v1` requests at 200 at once answered 503; every streamed request
 * after a connection's first was sent again). Every one must succeed, none sent twice.
 */
import { Agent, request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EngineBackends } from '../../../host/inference/engine/engine-backends.ts'
import { EngineHttp } from '../../../host/inference/engine/engine-http.ts'
import { LlamaServerProcess } from '../../../host/inference/engine/llama-server-process.ts'
import { foldCompletion } from '../../../host/inference/engine/server-stream.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { type ModelsFixture, modelsFixture } from './inference-fixtures.ts'

let models: ModelsFixture
let server: LlamaServerProcess

beforeAll(async () => {
  models = await modelsFixture()
  const backend = await new EngineBackends({
    logger: silentLogger(),
    devices: { nvidia: false, vulkan: false },
  }).active()
  // As a loaded model runs it: 4 slots, 12 HTTP threads.
  server = await LlamaServerProcess.start({
    dir: backend.dir,
    env: backend.env,
    args: ['-m', `${models.dir}/tiny.gguf`, '-c', '1024', '-np', '4', '-t', '1', '--threads-http', '12'],
  })
})
afterAll(async () => {
  await server?.stop()
  await models?.close()
})

describe('connections to llama-server', { timeout: 60_000 }, () => {
  it('serve 400 streamed requests, 16 at a time, each on a connection that is still open', async () => {
    const http = new EngineHttp(server.url, server.headers, { maxSockets: 12 })
    // How each answer ended (llama-server's last event): a stream cut short has none.
    const stops: string[] = []
    let next = 0
    // Sixteen callers, each sending its next request as soon as its last one is answered: the
    // connections of answered requests are what the next ones would be put on.
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < 400; i = next++) {
          const body = { prompt: `Request ${i}`, n_predict: 2, temperature: 0, stream: true }
          const response = await http.post('/completion', body)
          expect(response.status).toBe(200)
          stops.push((await foldCompletion(response.body, {})).stopType)
        }
      }),
    )
    expect(stops).toHaveLength(400)
    expect(stops.filter((stop) => stop === 'none')).toEqual([])
    expect(http.resent).toBe(0)
    http.close()
  })

  // Why a streamed request asks for `Connection: close` (engine-http.ts): llama-server's stream ends
  // as a cancel (tools/server/server-http.cpp), and cpp-httplib drops the connection. When this test
  // fails (a streamed answer's connection stays open: it times out waiting for the close), llama-server
  // keeps it: drop that header and let streamed requests reuse connections.
  it('end a connection after each streamed answer, and keep it after a whole one', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const post = (stream: boolean) =>
      new Promise<{ reused: boolean; closed: Promise<void> }>((resolve, reject) => {
        const payload = JSON.stringify({ prompt: 'Hi', n_predict: 1, stream })
        const req = request(
          `${server.url}/completion`,
          { method: 'POST', agent, headers: { ...server.headers, 'content-length': payload.length } },
          (res) => {
            const closed = new Promise<void>((done) => res.socket.once('close', () => done()))
            res.resume()
            res.on('end', () => resolve({ reused: req.reusedSocket, closed }))
          },
        )
        req.on('error', reject)
        req.end(payload)
      })
    await post(false)
    // A whole answer leaves its connection open: the next request goes on it.
    expect((await post(false)).reused).toBe(true)
    const streamed = await post(true)
    expect(streamed.reused).toBe(true)
    // ...and it is closed after a streamed one: the next request opens another.
    await streamed.closed
    expect((await post(true)).reused).toBe(false)
    agent.destroy()
  })
})
