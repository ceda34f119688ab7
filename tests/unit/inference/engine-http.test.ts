import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { EngineHttp } from '../../../host/inference/engine/engine-http.ts'
import { foldChat } from '../../../host/inference/engine/server-stream.ts'
import type { OutputEvent } from '../../../host/interface/run-event.ts'

let server: Server | null = null
let http: EngineHttp | null = null

afterEach(async () => {
  http?.close()
  await new Promise((resolve) => server?.close(resolve) ?? resolve(null))
  server = null
  http = null
})

/** A loopback server standing in for llama-server (these tests are about the connection, not it). */
async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler)
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\n\n`

describe('EngineHttp', () => {
  it('posts JSON with the server’s headers and reads a streamed answer as it comes', async () => {
    const seen: { auth?: string; body?: unknown }[] = []
    const url = await listen((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, body: JSON.parse(body) })
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write(chunk('Hel'))
        setTimeout(() => res.end(`${chunk('lo')}data: [DONE]\n\n`), 20)
      })
    })
    http = new EngineHttp(url, { authorization: 'Bearer s3cret', 'content-type': 'application/json' })
    const texts: string[] = []
    const response = await http.post('/v1/chat/completions', { messages: [] })
    expect(response.status).toBe(200)
    const answer = await foldChat(response.body, { onEvent: (e) => e.type === 'token' && texts.push(e.text) })
    expect(answer.text).toBe('Hello')
    expect(texts).toEqual(['Hel', 'lo'])
    expect(seen).toEqual([{ auth: 'Bearer s3cret', body: { messages: [] } }])
  })

  it('hands on a call in the pieces llama-server streams it in, named on each', async () => {
    const call = (piece: { id?: string; name?: string; arguments: string }) => {
      const { id, name, arguments: args } = piece
      const delta = {
        index: 0,
        ...(id && { id, type: 'function' }),
        function: { ...(name && { name }), arguments: args },
      }
      return `data: ${JSON.stringify({ choices: [{ delta: { tool_calls: [delta] } }] })}\n\n`
    }
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(
        [
          chunk('Looking.'),
          call({ id: 'c1', name: 'weather', arguments: '' }),
          call({ arguments: '{"city":' }),
          call({ arguments: '"Oslo"}' }),
          `data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] })}\n\n`,
          'data: [DONE]\n\n',
        ].join(''),
      )
    })
    http = new EngineHttp(url, {})
    const events: OutputEvent[] = []
    const answer = await foldChat((await http.post('/v1/chat/completions', {})).body, {
      onEvent: (e) => events.push(e),
    })
    expect(events).toEqual([
      { type: 'token', text: 'Looking.' },
      { type: 'tool-call', index: 0, name: 'weather', arguments: '' },
      { type: 'tool-call', index: 0, name: 'weather', arguments: '{"city":' },
      { type: 'tool-call', index: 0, name: 'weather', arguments: '"Oslo"}' },
    ])
    expect(answer.toolCalls).toEqual([{ name: 'weather', arguments: '{"city":"Oslo"}' }])
    expect(answer.stopType).toBe('tool_calls')
  })

  it('sends a request again when the kept-alive connection it reused was closed by the server', async () => {
    let requests = 0
    const url = await listen((req, res) => {
      requests += 1
      // The second request arrives on the kept connection: the server drops it unanswered, as a
      // server ending a connection after so many requests does.
      if (requests === 2) return req.socket.destroy()
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ n: requests }))
    })
    http = new EngineHttp(url, {})
    expect(await (await http.post('/apply-template', {})).json()).toEqual({ n: 1 })
    expect(await (await http.post('/apply-template', {})).json()).toEqual({ n: 3 })
    expect(requests).toBe(3)
  })

  it('does not send again on a fresh connection that failed, and a broken stream throws from its body', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(chunk('partial'))
      setTimeout(() => res.socket?.destroy(), 20)
    })
    http = new EngineHttp(url, {})
    const response = await http.post('/v1/chat/completions', {})
    await expect(foldChat(response.body, {})).rejects.toThrow(/connection to llama-server broke/)
    const refused = new EngineHttp('http://127.0.0.1:1', {})
    await expect(refused.post('/health', {})).rejects.toThrow(/ECONNREFUSED/)
  })

  it('stops at an abort, with the abort as the error', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(chunk('slow'))
    })
    http = new EngineHttp(url, {})
    const aborted = new AbortController()
    const response = await http.post('/v1/chat/completions', {}, aborted.signal)
    const folding = foldChat(response.body, { onEvent: () => aborted.abort() })
    await expect(folding).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }))
  })
})
