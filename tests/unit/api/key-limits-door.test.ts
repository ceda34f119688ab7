/**
 * An API key's limits at /v1 (issue 47, point 2): over its requests per minute, a 429 in each API's
 * own shape with `retry-after`, read by the official SDKs as their RateLimitError; tokens count once
 * answered, so a key at its tokens per minute is refused its next request; a key without limits and
 * the API token are never limited. /mcp's inference tools count against the same limits as /v1.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeyStore } from '../../../host/api/api-keys.ts'
import { ApiServer } from '../../../host/api/api-server.ts'
import { RequestRunner } from '../../../host/requests/run-request.ts'
import { baseInit, generateOutput, statusView, TINY_HOLDER } from './fixtures.ts'

let dir: string
let server: ApiServer
const keys: Record<'rpm' | 'tpm' | 'free' | 'mcp', string> = { rpm: '', tpm: '', free: '', mcp: '' }

const holder = TINY_HOLDER

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-key-limits-'))
  const store = new ApiKeyStore(join(dir, 'api-keys.json'))
  keys.rpm = (await store.create({ limits: { rpm: 2 } })).key
  // Each answer takes 7 tokens (5 in, 2 out): the second request finds 7 of 10 used, the third 14.
  keys.tpm = (await store.create({ limits: { tpm: 10 } })).key
  keys.free = (await store.create({})).key
  keys.mcp = (await store.create({ limits: { rpm: 2 } })).key
  server = new ApiServer(
    baseInit({
      keys: store,
      node: { status: statusView },
      components: {
        requests: new RequestRunner({
          scheduler: {} as never,
          workers: { get: () => undefined },
          peers: async () => [holder],
          direct: {
            run: async () => ({
              request: 'f'.repeat(64),
              peer: holder.agent,
              output: generateOutput(),
              recorded: Promise.resolve(null),
            }),
          },
        }),
      },
    }),
  )
  await server.start()
})

afterAll(async () => {
  await server.stop()
  await rm(dir, { recursive: true, force: true })
})

const openai = (apiKey: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 })
const chat = (apiKey: string) =>
  openai(apiKey).chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }] })
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => err,
  )

describe('limits per API key at /v1', () => {
  it('requests per minute: the limit-th passes; the next is a 429 in OpenAI’s and Anthropic’s shapes', async () => {
    await chat(keys.rpm)
    await chat(keys.rpm)
    const refused = await refusal(chat(keys.rpm))
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    const err = refused as InstanceType<typeof OpenAI.RateLimitError>
    expect(err.status).toBe(429)
    expect(err.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' })
    expect(Number(err.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(Number(err.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    // The Responses API answers in the same shape.
    const responses = await refusal(openai(keys.rpm).responses.create({ model: 'tiny', input: 'hi' }))
    expect(responses).toBeInstanceOf(OpenAI.RateLimitError)

    const anthropic = new Anthropic({ baseURL: server.url, apiKey: keys.rpm, maxRetries: 0 })
    const refusedThere = await refusal(
      anthropic.messages.create({
        model: 'tiny',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    )
    expect(refusedThere).toBeInstanceOf(Anthropic.RateLimitError)
    const a = refusedThere as InstanceType<typeof Anthropic.RateLimitError>
    expect(a.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
    expect(a.headers?.get('retry-after')).toMatch(/^\d+$/)
  })

  it('tokens per minute count once answered: under the limit admitted, at it refused', async () => {
    await chat(keys.tpm)
    await chat(keys.tpm)
    const refused = (await refusal(chat(keys.tpm))) as InstanceType<typeof OpenAI.RateLimitError>
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    expect(refused.message).toMatch(/10 tokens per minute \(14 used\)/)
  })

  it('/mcp: generate_text counts against the key’s limits with /v1; past them the tool fails saying when to retry', async () => {
    const mcp = new Client({ name: 'key-limits', version: '1.0.0' })
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL('/mcp', server.url), {
        requestInit: { headers: { authorization: `Bearer ${keys.mcp}` } },
      }),
    )
    try {
      const generate = () =>
        mcp.callTool({ name: 'generate_text', arguments: { model: 'tiny', prompt: 'hi' } })
      expect((await generate()).isError).toBeFalsy()
      await chat(keys.mcp)
      const refused = await generate()
      expect(refused.isError).toBe(true)
      expect(JSON.stringify(refused.content)).toMatch(
        /limit of 2 requests per minute \(2 used\); try again in \d+ s/,
      )
      expect(await refusal(chat(keys.mcp))).toBeInstanceOf(OpenAI.RateLimitError)
    } finally {
      await mcp.close()
    }
  })

  it('a key without limits, and the API token, are not limited', async () => {
    for (let i = 0; i < 5; i++) {
      await chat(keys.free)
      await chat('the-token')
    }
  })
})
