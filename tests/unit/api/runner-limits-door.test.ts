/**
 * Every runner refusing a request by its policies (a limit of each: usage, a share of slots) at /v1
 * (issue 47, point 2): a 429 in each API's own shape, read by the official SDKs as RateLimitError,
 * with `retry-after` the earliest time a refusing runner said it would take it (10 s when none said).
 */
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import type { PeerEntry } from '../../../host/interface/live-peers.ts'
import { NoRunnerError, type Turndown } from '../../../host/requests/direct/direct-errors.ts'
import { RequestRunner } from '../../../host/requests/run-request.ts'
import { baseInit, statusView, TINY_HOLDER } from './fixtures.ts'

const holder = TINY_HOLDER

/** What the runners said, by the model asked for. */
const REFUSALS: Record<string, Turndown[]> = {
  tiny: [
    {
      agent: 'uhCAkA',
      why: 'busy/limited',
      message: 'denied by policy: forbidden by p1',
      retry_after_s: 3600,
    },
    { agent: 'uhCAkB', why: 'busy', message: 'every slot is busy' },
    {
      agent: 'uhCAkC',
      why: 'busy/limited',
      message: 'denied by policy: forbidden by p0',
      retry_after_s: 120,
    },
  ],
  silent: [{ agent: 'uhCAkA', why: 'busy/limited', message: 'denied by policy: forbidden by p0' }],
}

let server: ApiServer

beforeAll(async () => {
  const models = Object.keys(REFUSALS).map((name) => ({ ...holder.capability!.inference.models[0]!, name }))
  const peer = {
    ...holder,
    capability: { ...holder.capability, inference: { tokens_per_second: null, models } },
  }
  server = new ApiServer(
    baseInit({
      node: { status: statusView },
      components: {
        requests: new RequestRunner({
          scheduler: {} as never,
          workers: { get: () => undefined },
          peers: async () => [peer as PeerEntry],
          direct: {
            run: async ({ model }) => {
              throw new NoRunnerError(model, REFUSALS[model]!)
            },
          },
        }),
      },
    }),
  )
  await server.start()
})

afterAll(async () => {
  await server.stop()
})

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => err,
  )
const openai = () => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'the-token', maxRetries: 0 })
const chat = (model: string) =>
  openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })

describe('every runner refusing by policy at /v1', () => {
  it('is a 429 in OpenAI’s shape with the earliest retry-after a runner said', async () => {
    const err = (await refusal(chat('tiny'))) as InstanceType<typeof OpenAI.RateLimitError>
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect(err.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' })
    expect(err.headers.get('retry-after')).toBe('120')
    expect(err.message).toMatch(/forbidden by p0/)
    const responses = await refusal(openai().responses.create({ model: 'tiny', input: 'hi' }))
    expect(responses).toBeInstanceOf(OpenAI.RateLimitError)
  })

  it('is a 429 in Anthropic’s shape', async () => {
    const anthropic = new Anthropic({ baseURL: server.url, apiKey: 'the-token', maxRetries: 0 })
    const err = (await refusal(
      anthropic.messages.create({
        model: 'tiny',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    )) as InstanceType<typeof Anthropic.RateLimitError>
    expect(err).toBeInstanceOf(Anthropic.RateLimitError)
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
    expect(err.headers?.get('retry-after')).toBe('120')
  })

  it('says 10 seconds when no runner named a time', async () => {
    const err = (await refusal(chat('silent'))) as InstanceType<typeof OpenAI.RateLimitError>
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect(err.headers.get('retry-after')).toBe('10')
  })
})
