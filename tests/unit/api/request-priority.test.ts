/**
 * A request's priority band through `/v1` (issue 58, point 2): the `x-ripple-priority` header reaches
 * the request, capped by its key's setting (clamped, the reply's header saying the band it got); a key
 * with a setting and no header runs in that band, the token's requests interactive; a header that
 * names no band is a 400 in the API's shape, before anything runs.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeyStore } from '../../../host/api/api-keys.ts'
import { ApiServer } from '../../../host/api/api-server.ts'
import type { InferenceRequest, RequestsPort } from '../../../host/requests/requests-port.ts'
import { baseInit, generateOutput, statusView } from './fixtures.ts'

const RUNNER = `uhCAk${'r'.repeat(48)}`
let dir: string
let server: ApiServer
const keys = { batch: '', free: '' }
let token = ''
const seen: (string | undefined)[] = []

const requests: RequestsPort = {
  models: async () => [],
  run: async (request: InferenceRequest) => {
    seen.push(request.priority)
    request.onEvent?.({ type: 'submitted', task: '0'.repeat(64) })
    return { task: '0'.repeat(64), peer: RUNNER, output: generateOutput() }
  },
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-priority-'))
  const store = new ApiKeyStore(join(dir, 'api-keys.json'))
  keys.batch = (await store.create({ priority: 'batch' })).key
  keys.free = (await store.create({})).key
  const init = baseInit({ keys: store, node: { status: statusView }, components: { requests } })
  token = init.token
  server = new ApiServer(init)
  await server.start()
})

afterAll(async () => {
  await server.stop()
  await rm(dir, { recursive: true, force: true })
})

const chat = (bearer: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }] }),
  })

describe('priority on /v1', () => {
  it.each([
    ['the token, no header', () => token, {}, 'interactive'],
    ['the token asks batch', () => token, { 'x-ripple-priority': 'batch' }, 'batch'],
    ['a key with no setting', () => keys.free, {}, 'agent'],
    [
      'a key with no setting asks interactive',
      () => keys.free,
      { 'x-ripple-priority': 'interactive' },
      'interactive',
    ],
    ['a batch key', () => keys.batch, {}, 'batch'],
    // Above its key's cap: clamped to it, not refused; the reply says so.
    ['a batch key asks interactive', () => keys.batch, { 'x-ripple-priority': 'INTERACTIVE' }, 'batch'],
  ])('%s', async (_, bearer, headers, band) => {
    seen.length = 0
    const reply = await chat(bearer(), headers)
    expect(reply.status).toBe(200)
    expect(reply.headers.get('x-ripple-priority')).toBe(band)
    expect(seen).toEqual([band])
  })

  it.each([['urgent'], ['batch; agent'], ['9'], ['interactive\u00e9']])(
    'refuses a header naming no band (%s) with a 400, before anything runs',
    async (junk) => {
      seen.length = 0
      const reply = await chat(keys.free, { 'x-ripple-priority': junk })
      expect(reply.status).toBe(400)
      expect(await reply.json()).toMatchObject({
        error: { type: 'invalid_request_error', code: 'invalid_priority', param: 'x-ripple-priority' },
      })
      expect(seen).toEqual([])
    },
  )
})
