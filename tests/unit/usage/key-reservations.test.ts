/**
 * An API key's limits count what was admitted and not yet answered (issue 55, point 8): a streamed
 * request whose client goes away mid-stream still counts the tokens it streamed, so the next request
 * over the limit is refused; a fan-out request counts each of its runs; and a key's requests at once
 * are bounded, so a flood of concurrent requests is refused before any is answered.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ApiKeyStore } from '../../../host/api/api-keys.ts'
import { ApiServer } from '../../../host/api/api-server.ts'
import type { InferenceRequest, RequestsPort } from '../../../host/requests/requests-port.ts'
import { baseInit, generateOutput, statusView } from '../api/fixtures.ts'

/** Streamed pieces before the fake runner stalls (one token each). */
const STREAMED = 150

let dir: string
let server: ApiServer
const keys = { stream: '', fanOut: '', concurrent: '' }
/** Resolves once a stalled run saw its caller go away. */
let cancelled = deferred()

function deferred() {
  let resolve = () => {}
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** A mesh of one fake runner: a stream streams STREAMED pieces then stalls until cancelled; else 7 tokens. */
const requests: RequestsPort = {
  models: async () => [],
  run: async (request: InferenceRequest) => {
    request.onEvent?.({ type: 'submitted', task: 'f'.repeat(64) })
    if (request.whole) return { task: 'f'.repeat(64), peer: 'uhCAkHOLDER', output: generateOutput() }
    request.onEvent?.({ type: 'assigned', peer: 'uhCAkHOLDER' })
    for (let i = 0; i < STREAMED; i++) request.onEvent?.({ type: 'token', text: 'x' })
    return new Promise((_, reject) =>
      request.signal.addEventListener('abort', () => {
        cancelled.resolve()
        reject(new Error('cancelled'))
      }),
    )
  },
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-key-reservations-'))
  const store = new ApiKeyStore(join(dir, 'api-keys.json'))
  keys.stream = (await store.create({ limits: { tokens_per_day: 100 } })).key
  // Each run takes 7 tokens (5 in, 2 out): a fan-out of 3 is 21.
  keys.fanOut = (await store.create({ limits: { tokens_per_day: 20 } })).key
  keys.concurrent = (await store.create({ limits: { concurrent: 2 } })).key
  server = new ApiServer(baseInit({ keys: store, node: { status: statusView }, components: { requests } }))
  await server.start()
})

afterAll(async () => {
  await server.stop()
  await rm(dir, { recursive: true, force: true })
})

const chat = (key: string, body: Record<string, unknown>, signal?: AbortSignal) =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], ...body }),
    signal,
  })

/** Opens a stream and reads until its first text arrives (the runner took it). */
async function openStream(key: string, body: Record<string, unknown> = {}) {
  const client = new AbortController()
  const reply = await chat(key, { stream: true, max_tokens: 1000, ...body }, client.signal)
  expect(reply.status).toBe(200)
  const reader = reply.body!.getReader()
  let text = ''
  while (!text.includes('"x"')) text += new TextDecoder().decode((await reader.read()).value)
  return client
}

const refusal = async (reply: Response) => ({
  status: reply.status,
  message: ((await reply.json()) as { error: { message: string } }).error.message,
})

describe('key limits count what was admitted and not yet answered', () => {
  it('a client that goes away mid-stream: what streamed counts, and the next request over the limit is refused', async () => {
    cancelled = deferred()
    const client = await openStream(keys.stream)
    client.abort()
    await cancelled.promise
    // Settled as the request ends: the 150 tokens streamed count (not the 1000 it reserved, nor none).
    await vi.waitFor(async () => {
      expect(await refusal(await chat(keys.stream, {}))).toEqual({
        status: 429,
        message: expect.stringMatching(/limit of 100 tokens per day \(150 used\)/),
      })
    })
  })

  it('a fan-out request counts each of its runs', async () => {
    const reply = await chat(keys.fanOut, { ripple: { fan_out: 3 } })
    expect(reply.status).toBe(200)
    expect(await refusal(await chat(keys.fanOut, {}))).toEqual({
      status: 429,
      message: expect.stringMatching(/limit of 20 tokens per day \(21 used\)/),
    })
  })

  it('requests at once are bounded: the third concurrent request of a key capped at 2 is refused', async () => {
    cancelled = deferred()
    const open = [await openStream(keys.concurrent), await openStream(keys.concurrent)]
    expect(await refusal(await chat(keys.concurrent, {}))).toEqual({
      status: 429,
      message: expect.stringMatching(/limit of 2 requests at once \(2 used\)/),
    })
    for (const client of open) client.abort()
    await cancelled.promise
    await vi.waitFor(async () => expect((await chat(keys.concurrent, {})).status).toBe(200))
  })
})
