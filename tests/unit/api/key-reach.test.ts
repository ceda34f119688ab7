/**
 * An API key reaches `/v1` and `/mcp` within its models, and nothing else, whatever the address the
 * API listens on: with `--api-host 0.0.0.0 --require-keys`, a key scoped to one model, from another
 * machine, read `/api/tasks`, `/api/tasks/:hash` (other callers' prompts), `/api/peers`, `/metrics`
 * and `/api/events`. Every route the server registers is enumerated from Fastify itself, so a route
 * added later is covered without touching this test. The requests come from another machine's
 * address through Fastify's `inject` (what the auth hook reads is the socket's remote address).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import type { FastifyInstance } from 'fastify'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeyStore } from '../../../host/api/api-keys.ts'
import { ApiServer } from '../../../host/api/api-server.ts'
import { routes as contract } from '../../../host/api/contract/index.ts'
import { dashboardRoutes, readDashboardFiles } from '../../../host/api/dashboard/static-files.ts'
import { RequestRunner } from '../../../host/requests/run-request.ts'
import { baseInit, statusView, TINY_HOLDER } from './fixtures.ts'

const OFF_HOST = '192.0.2.7'
const TOKEN = 'the-token'

let dir: string
let server: ApiServer
let app: FastifyInstance
let key: string
let keyId: string

const holder = TINY_HOLDER

/** What the runner answered (the mesh's run is a stand-in: this test is about who may ask). */
const OUTPUT = {
  text: 'hello',
  reasoning: '',
  json: null,
  tool_calls: [],
  stop_reason: 'eos',
  model: { name: 'tiny', file_hash: 'a'.repeat(64), parameters: 1, quantisation: 'F32', context_length: 64 },
  params: {
    max_tokens: 8,
    temperature: 0,
    seed: 1,
    top_p: null,
    constraint: 'none',
    context_size: 64,
    threads: 1,
  },
  timings: {
    load_ms: 0,
    prompt_tokens: 3,
    generated_tokens: 1,
    reasoning_tokens: 0,
    time_to_first_token_ms: 1,
    total_ms: 1,
    tokens_per_second: null,
    cached_tokens: 0,
  },
}

// Parts whose routes only have to exist: a refused request never reaches them.
const unused = {} as never

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-key-reach-'))
  const keys = new ApiKeyStore(join(dir, 'api-keys.json'))
  const created = await keys.create({ name: 'agent', models: ['tiny'] })
  key = created.key
  keyId = created.record.id
  const requests = new RequestRunner({
    scheduler: unused,
    workers: { get: () => undefined },
    peers: async () => [holder],
    direct: {
      run: async () => ({
        request: 'f'.repeat(64),
        peer: holder.agent,
        output: OUTPUT,
        recorded: Promise.resolve(null),
      }),
    },
  })
  // Every optional part is present, so every route a daemon can serve is registered.
  server = new ApiServer(
    baseInit({
      host: '0.0.0.0',
      requireKeys: true,
      keys,
      node: { status: statusView, invites: unused, pull: unused },
      components: {
        backend: { waitForAction: async () => true },
        splits: unused,
        scheduler: unused,
        workers: unused,
        direct: unused,
        policies: unused,
        artifacts: unused,
        memory: unused,
        usage: { rows: () => [], note: () => {} },
        requests,
        aliases: { list: async () => [] } as never,
        metrics: { request: () => {}, registry: unused, text: unused } as never,
      },
    }),
  )
  // The server's own Fastify instance: its routes, and requests from any address.
  app = server.fastify
  await app.ready()
})

afterAll(async () => {
  await server.stop()
  await rm(dir, { recursive: true, force: true })
})

/** Every route the server registers (method, URL pattern), read from Fastify's own route tree. */
function registeredRoutes(): { method: string; url: string }[] {
  const found: { method: string; url: string }[] = []
  const prefixes: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const node = /^([│ ]*)[└├]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (node === null) continue
    const depth = (node[1] ?? '').length / 4
    const url = (prefixes[depth - 1] ?? '') + (node[2] ?? '')
    prefixes[depth] = url
    for (const method of (node[3] ?? '').split(', ').filter(Boolean)) found.push({ method, url })
  }
  return found
}

/** A request from `address` with the key (or `secret`), params filled with a placeholder. */
async function send(method: string, url: string, address: string, secret = key) {
  const res = await app.inject({
    method: method as 'GET',
    url: url.replace(/:[a-z_]+|\*/gi, 'x'),
    remoteAddress: address,
    headers: { authorization: `Bearer ${secret}` },
    ...(method === 'POST' ? { payload: {} } : {}),
  })
  return { status: res.statusCode, body: method === 'HEAD' ? null : (res.json() as { error?: unknown }) }
}

const isEndpoint = (url: string) => /^\/(v1|mcp)(\/|$)/.test(url)

describe('an API key scoped to one model, on an API open beyond loopback', () => {
  it('is refused on every route but /v1 and /mcp, from another machine and from this one', async () => {
    const served = registeredRoutes()
    const names = served.map((r) => `${r.method} ${r.url}`)
    // The enumeration found the routes of the issue, and every route of the management contract.
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /api/tasks',
        'GET /api/tasks/:hash',
        'GET /api/peers',
        'GET /api/events',
        'GET /metrics',
        'POST /v1/chat/completions',
        'POST /mcp',
      ]),
    )
    for (const route of Object.values(contract)) expect(names).toContain(`${route.method} ${route.path}`)

    const dashboardFiles = new Set(dashboardRoutes(readDashboardFiles()).map((r) => `${r.method} ${r.url}`))
    const management = served.filter((r) => !isEndpoint(r.url) && !dashboardFiles.has(`${r.method} ${r.url}`))
    expect(management.length).toBeGreaterThan(40)
    for (const { method, url } of management) {
      for (const address of [OFF_HOST, '127.0.0.1']) {
        const refused = await send(method, url, address)
        const what = `${method} ${url} from ${address}`
        // The one open route trades a login code for the token: on this machine it takes no
        // credential (and gives nothing without a code); other machines it refuses.
        const open = url === contract.session.path && method === 'POST'
        if (open && address !== OFF_HOST) {
          expect(refused, what).toMatchObject({
            status: 400,
            body: { error: { name: 'InvalidPayloadError' } },
          })
          continue
        }
        expect(refused.status, what).toBe(403)
        if (refused.body === null) continue
        expect(refused.body, what).toMatchObject({
          error: {
            name: open ? 'ForbiddenError' : 'KeyNotAllowedError',
            message: expect.stringContaining(
              open ? '/v1 and /mcp' : `API key ${keyId} reaches /v1 and /mcp only`,
            ),
          },
        })
      }
    }
    // The token from another machine is refused too: nothing there is for it.
    const token = await send('GET', '/api/tasks', OFF_HOST, TOKEN)
    expect(token.status).toBe(403)
    expect(await send('GET', '/api/status', '127.0.0.1', TOKEN)).toMatchObject({ status: 200 })
  })

  it(`still runs its model on /v1 from another machine, and is refused another model`, async () => {
    // The official clients, their requests sent from the other machine's address.
    const fromThere: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      const res = await app.inject({
        method: (init?.method ?? 'GET') as 'GET',
        url: url.pathname + url.search,
        headers: Object.fromEntries(new Headers(init?.headers).entries()),
        payload: init?.body as string | undefined,
        remoteAddress: OFF_HOST,
      })
      const headers = new Headers()
      for (const [name, value] of Object.entries(res.headers)) headers.set(name, String(value))
      return new Response(res.rawPayload, { status: res.statusCode, headers })
    }
    const openai = new OpenAI({ baseURL: 'http://api.test/v1', apiKey: key, maxRetries: 0, fetch: fromThere })
    const chat = await openai.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(chat.choices[0]?.message.content).toBe('hello')
    expect((await openai.models.list()).data.map((m) => m.id)).toEqual(['tiny'])

    const other = await openai.chat.completions
      .create({ model: 'other', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => null,
        (err: unknown) => err as { status: number; error: unknown },
      )
    expect(other?.status).toBe(403)
    expect(other?.error).toMatchObject({ code: 'model_not_allowed', param: 'model' })

    const anthropic = new Anthropic({
      baseURL: 'http://api.test',
      apiKey: key,
      maxRetries: 0,
      fetch: fromThere,
    })
    const message = await anthropic.messages.create({
      model: 'tiny',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'hello' })
  })
})
