/**
 * Against a real `ripple up` (real Cedar parser, msgpack, conductor, llama-server): inputs that used
 * to answer 500, and on `/v1` 503 `no_capacity` (a prompt over the model's context, a JSON schema
 * llama.cpp cannot compile), are 400 with the field at fault in the shape of the API they came
 * through; the daemon logs them at info without a stack, and keeps serving.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { type RunningRipple, startRipple } from './ripple-process.ts'

let dataDir: string
let daemon: RunningRipple
let api: { url: string; token: string }

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ripple-e2e-caller-errors-'))
  const models = join(dataDir, 'models')
  await mkdir(models)
  await writeLlamaModel(join(models, 'tiny.gguf'), TINY_MODEL)
  daemon = await startRipple([
    ...['--data-dir', dataDir, '--models-dir', models, '--context-size', '256', '--threads', '1'],
    ...['--api-port', '0', '--log-level', 'info'],
  ])
  const { api_url: url } = JSON.parse(await readFile(join(dataDir, 'daemon.json'), 'utf8')) as {
    api_url: string
  }
  api = { url, token: (await readFile(join(dataDir, 'api-token'), 'utf8')).trim() }
}, 90_000)

afterAll(async () => {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
})

async function post(path: string, body: string) {
  const res = await fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body,
  })
  return {
    status: res.status,
    error: ((await res.json()) as { error: { name: string; details?: unknown } }).error,
  }
}

describe('former 5xx from a real daemon', { timeout: 60_000 }, () => {
  it('answers 400 to a task input nested 6,000 levels deep and to a policy with a lone surrogate', async () => {
    const deep = `${'['.repeat(6000)}${']'.repeat(6000)}`
    const task = await post('/api/tasks', `{"kind":"echo","input":{"message":${deep}}}`)
    expect(task).toMatchObject({
      status: 400,
      error: {
        name: 'TooDeepJsonError',
        details: { field: expect.stringMatching(/^input\.message\.0\.0\.0\.0\.….0 \(level 64\)$/) },
      },
    })
    const policy = await post(
      '/api/policies',
      '{"id":"p1","text":"permit(principal, action, resource) when { \\"\\udc00\\" };"}',
    )
    expect(policy).toMatchObject({
      status: 400,
      error: { name: 'MalformedStringError', details: { field: 'text' } },
    })

    const status = await fetch(`${api.url}/api/status`, { headers: { authorization: `Bearer ${api.token}` } })
    expect(status.status).toBe(200)
    const log = daemon.stderr()
    expect(log).not.toMatch(/"level":50/)
    expect(log).not.toMatch(/\\n\s+at /)
  })
})

/** What a request that must fail threw: the clients' APIError (status, error body). */
function refusal(request: Promise<unknown>): Promise<{ status: number; error: unknown }> {
  return request.then(
    () => {
      throw new Error('the request succeeded')
    },
    (err: unknown) => err as { status: number; error: unknown },
  )
}

describe('caller mistakes on /v1, found by the engine', { timeout: 90_000 }, () => {
  it('answers a prompt over the context and schemas llama.cpp cannot compile with 400, not 503', async () => {
    const openai = new OpenAI({ baseURL: `${api.url}/v1`, apiKey: api.token, maxRetries: 0 })
    const anthropic = new Anthropic({ baseURL: api.url, apiKey: api.token, maxRetries: 0 })
    const long = [{ role: 'user' as const, content: 'hello world '.repeat(4000) }]

    const overflow = await refusal(openai.chat.completions.create({ model: 'tiny', messages: long }))
    expect(overflow.status).toBe(400)
    expect(overflow.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
      message: expect.stringMatching(/^the prompt is \d{4,} tokens, over the 256-token context/),
    })
    const anthropicOverflow = await refusal(
      anthropic.messages.create({ model: 'tiny', max_tokens: 4, messages: long }),
    )
    expect(anthropicOverflow.status).toBe(400)
    expect(anthropicOverflow.error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('256-token context') },
    })

    const hi = [{ role: 'user' as const, content: 'hi' }]
    for (const [schema, problem] of [
      [{ type: 'bogus' }, 'unrecognized type bogus'],
      [{ $ref: '#/definitions/nowhere' }, 'cannot resolve $ref'],
      [{ type: 'object', properties: 5 }, 'properties must be an object'],
    ] as const) {
      const refused = await refusal(
        openai.chat.completions.create({
          model: 'tiny',
          messages: hi,
          response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
        }),
      )
      expect(refused.status, problem).toBe(400)
      expect(refused.error, problem).toMatchObject({
        code: 'invalid_value',
        param: 'json_schema',
        message: expect.stringContaining(problem),
      })
      expect((refused.error as { message: string }).message).toMatch(/^invalid JSON schema: /)
    }

    // The engine is fine: the next request is answered.
    const answer = await openai.chat.completions.create({ model: 'tiny', messages: hi, max_tokens: 2 })
    expect(answer.choices[0]?.message.content).toBeTypeOf('string')
    const log = daemon.stderr()
    expect(log).not.toMatch(/"level":50/)
    expect(log).not.toMatch(/\\n\s+at /)
    const refusals = log
      .split('\n')
      .filter((l) => l.includes('"msg":"request refused"') && l.includes('/v1/'))
    expect(refusals).toHaveLength(5)
    expect(refusals.every((l) => l.includes('"level":30'))).toBe(true)
  })
})
