/**
 * Caller errors that used to be 5xx: each is a 4xx naming the field at fault, logged at info
 * without a stack, and the server keeps serving. On `/v1` the JSON-level ones come in the shape of
 * the API they came through (they came in the management API's), through the official clients.
 */
import { Writable } from 'node:stream'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import { MAX_JSON_DEPTH } from '../../../host/api/json-body-check.ts'
import { RequestRunner } from '../../../host/requests/run-request.ts'
import { claimSnapshotOf } from '../../../host/scheduler/requirements.ts'
import { baseInit, CAPABILITY, statusView, UNKNOWN_ACTION } from './fixtures.ts'

const TOKEN = 'test-token-0123456789'
const logLines: Record<string, unknown>[] = []
let server: ApiServer

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logLines.push(JSON.parse(line))
      done()
    },
  })
  server = new ApiServer(
    baseInit({
      token: TOKEN,
      node: { status: statusView },
      components: {
        models: {
          list: async () => ({ models: [], unusable: [] }),
          load: async () => never(),
          unload: async () => false,
        },
        // Only for /v1's routes to exist: the bodies here are refused before anything runs.
        requests: new RequestRunner({
          scheduler: {} as never,
          workers: { get: () => undefined },
          peers: async () => [],
        }),
      },
      logger: pino({ level: 'info' }, sink),
    }),
  )
  await server.start()
})

afterAll(async () => {
  await server.stop()
})

function never(): never {
  throw new Error('not used')
}

async function post(path: string, body: string) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body,
  })
  return {
    status: res.status,
    error: ((await res.json()) as { error: { name: string; details?: unknown } }).error,
  }
}

/** What a request that must fail threw: the clients' APIError (status, error body). */
function refusal(request: Promise<unknown>): Promise<{ status: number; error: unknown }> {
  return request.then(
    () => {
      throw new Error('the request succeeded')
    },
    (err: unknown) => err as { status: number; error: unknown },
  )
}

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`

describe('caller errors are 4xx, logged without a stack', () => {
  it('refuses JSON nested thousands of levels deep with 400 and the field (was 500 / stack overflow)', async () => {
    const deep = await post('/api/zome/agent_registry/advertise_capability', nested(6000))
    expect(deep.status).toBe(400)
    expect(deep.error).toMatchObject({
      name: 'TooDeepJsonError',
      details: { field: `a.a.a.a.a.a.….a (level ${MAX_JSON_DEPTH})` },
    })
    // At the limit it is only the contract that answers.
    const ok = await post('/api/zome/agent_registry/advertise_capability', nested(MAX_JSON_DEPTH - 1))
    expect(ok.error.name).toBe('InvalidPayloadError')
  })

  it('refuses a lone surrogate in any string with 400 and the field (was 500 from the Cedar parser)', async () => {
    const body = '{"id":"p1","text":"permit(principal, action, resource) when { \\ud800 };"}'
    const res = await post('/api/policies', body)
    expect(res.status).toBe(400)
    expect(res.error).toMatchObject({ name: 'MalformedStringError', details: { field: 'text' } })
    // A well-formed pair (an emoji) is text like any other.
    const emoji = await post('/api/zome/agent_registry/advertise_capability', '{"name":"\\ud83d\\ude00"}')
    expect(emoji.error.name).toBe('InvalidPayloadError')
  })

  it('answers a reference to a record this peer does not hold with 422 and the field (was 503)', async () => {
    const snapshot = claimSnapshotOf(CAPABILITY, 0)
    const res = await post(
      '/api/zome/resource_mesh/claim_task',
      JSON.stringify({ task: UNKNOWN_ACTION, snapshot }),
    )
    expect(res.status).toBe(422)
    expect(res.error).toMatchObject({
      name: 'UnknownRecordError',
      details: { deps: [UNKNOWN_ACTION], fields: ['task'] },
    })
  })

  it('answers a function the backend does not run yet with 404 naming it (was 501)', async () => {
    const res = await post('/api/zome/agent_registry/find_nodes_by_tag', '"gpu"')
    expect(res.status).toBe(404)
    expect(res.error).toMatchObject({ name: 'ZomeFunctionNotImplementedError', details: { field: 'fn' } })
  })

  it('answers a lone surrogate or JSON nested too deep on /v1 with 400 in the API’s own shape', async () => {
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: TOKEN, maxRetries: 0 })
    const anthropic = new Anthropic({ baseURL: server.url, apiKey: TOKEN, maxRetries: 0 })
    const lone = '\ud800'
    // Sent as extra fields, which the clients pass on as they are.
    const deep = { metadata: JSON.parse(nested(100)) } as object
    const user = (content: string) => [{ role: 'user' as const, content }]
    const openAiCalls = {
      '/v1/chat/completions': (extra: object, text = 'hi') =>
        openai.chat.completions.create({ model: 'tiny', messages: user(text), ...extra }),
      '/v1/completions': (extra: object, text = 'hi') =>
        openai.completions.create({ model: 'tiny', prompt: text, ...extra }),
      '/v1/embeddings': (extra: object, text = 'hi') =>
        openai.embeddings.create({ model: 'tiny', input: text, ...extra }),
      '/v1/responses': (extra: object, text = 'hi') =>
        openai.responses.create({ model: 'tiny', input: text, ...extra }),
    }
    const where = { '/v1/chat/completions': 'messages.0.content', '/v1/completions': 'prompt' }
    for (const [path, call] of Object.entries(openAiCalls)) {
      const surrogate = await refusal(call({}, `a ${lone} b`))
      expect(surrogate.status, path).toBe(400)
      expect(surrogate.error, path).toMatchObject({
        type: 'invalid_request_error',
        param: where[path as keyof typeof where] ?? expect.stringMatching(/^input/),
        message: expect.stringContaining('lone UTF-16 surrogate'),
      })
      const tooDeep = await refusal(call(deep))
      expect(tooDeep.status, path).toBe(400)
      expect(tooDeep.error, path).toMatchObject({
        type: 'invalid_request_error',
        param: `metadata.a.a.a.a.a.….a (level ${MAX_JSON_DEPTH})`,
        message: expect.stringContaining(`deeper than ${MAX_JSON_DEPTH} levels`),
      })
    }
    const message = (extra: object, text = 'hi') =>
      anthropic.messages.create({ model: 'tiny', max_tokens: 4, messages: user(text), ...extra })
    for (const [request, words] of [
      [message({}, lone), 'messages.0.content: a lone UTF-16 surrogate'],
      [message(deep), `deeper than ${MAX_JSON_DEPTH} levels`],
    ] as const) {
      const refused = await refusal(request)
      expect(refused.status).toBe(400)
      expect(refused.error).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.stringContaining(words) },
      })
    }
  })

  it('logged every refusal above at info, none at error, and no stack', async () => {
    const refused = logLines.filter((l) => l.msg === 'request refused')
    expect(refused.map((l) => l.error)).toEqual(
      expect.arrayContaining(['UnknownRecordError', 'ZomeFunctionNotImplementedError']),
    )
    // The /v1 ones too: five APIs, two bodies each.
    expect(refused.filter((l) => String(l.url).startsWith('/v1/'))).toHaveLength(10)
    expect(refused.every((l) => l.level === 30)).toBe(true)
    expect(logLines.filter((l) => (l.level as number) >= 50)).toEqual([])
    expect(JSON.stringify(logLines)).not.toMatch(/\\n\s+at /)
    const res = await fetch(`${server.url}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.status).toBe(200)
  })
})
