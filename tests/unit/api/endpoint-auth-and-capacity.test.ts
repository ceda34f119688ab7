/**
 * API keys (hashed file, scope, expiry, revocation), who may call what (token vs key, loopback vs
 * not; a key reaches /v1 and /mcp only: tests/unit/api/key-reach.test.ts tries every route), the API
 * host rule, and how the endpoint answers when no peer takes a task: 503 with the
 * scheduler's reason, 429 when every peer with the model is busy, 502 when the peers' answers failed,
 * each in the API's own error shape. The scheduler here is a stand-in that never assigns (or fails) a
 * task, so these cases are quick and certain; the real mesh is in tests/e2e/openai-endpoint.test.ts.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authenticate } from '../../../host/api/api-auth.ts'
import { ApiKeyStore, keyAllowsModel } from '../../../host/api/api-keys.ts'
import { ApiHostNeedsKeysError, ApiServer } from '../../../host/api/api-server.ts'
import type { StatusView } from '../../../host/api/contract/index.ts'
import { EndpointError } from '../../../host/api/openai/endpoint-error.ts'
import type { PeerEntry } from '../../../host/interface/live-peers.ts'
import { RequestRunner } from '../../../host/requests/run-request.ts'
import type { TaskEvent, TaskView } from '../../../host/scheduler/scheduler-service.ts'
import { baseInit, CAPABILITY } from './fixtures.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-keys-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('API keys', () => {
  it('are kept hashed in a 0600 file, checked, scoped, expired and revoked', async () => {
    const store = new ApiKeyStore(join(dir, 'api-keys.json'))
    const { key, record } = await store.create({ name: 'a', models: ['tiny'] })
    expect(((await stat(store.path)).mode & 0o777).toString(8)).toBe('600')
    expect(JSON.stringify(await store.list())).not.toContain(key)
    expect(await store.check(key)).toEqual({ ok: true, key: record })
    expect(keyAllowsModel(record, 'tiny')).toBe(true)
    expect(keyAllowsModel(record, 'other')).toBe(false)
    expect(keyAllowsModel(null, 'other')).toBe(true)
    expect(await store.check(`${key.slice(0, -1)}x`)).toEqual({ ok: false, reason: 'wrong API key' })

    const soon = await store.create({ expiresAt: new Date(Date.now() + 1000) })
    expect((await store.check(soon.key)).ok).toBe(true)
    expect(await store.check(soon.key, Date.now() + 2000)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/expired/),
    })

    // Another process (the CLI) revokes it: this store sees the file change.
    await new ApiKeyStore(store.path).revoke(record.id)
    expect(await store.check(key)).toEqual({ ok: false, reason: `API key ${record.id} was revoked` })
    await expect(store.revoke('nope')).rejects.toThrow('no API key with id nope')
  })

  it('the token works on loopback only when keys are required; a key works from anywhere', async () => {
    const store = new ApiKeyStore(join(dir, 'auth-keys.json'))
    const { key } = await store.create({})
    const init = { token: 'the-token', keys: store, requireKeys: true }
    const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })
    expect(await authenticate(init, bearer('the-token'), '127.0.0.1')).toEqual({ key: null })
    const remote = await authenticate(init, bearer('the-token'), '192.0.2.7')
    expect(remote).toBeInstanceOf(EndpointError)
    expect((await authenticate(init, { 'x-api-key': key }, '192.0.2.7')) as object).toHaveProperty('key.id')
    expect(((await authenticate(init, {}, '127.0.0.1')) as EndpointError).code).toBe('missing_api_key')
  })
})

describe('a key on the management API', () => {
  it('is refused, on loopback too, with what takes the token; a wrong or revoked key is 401', async () => {
    const store = new ApiKeyStore(join(dir, 'read-keys.json'))
    const { key, record } = await store.create({ name: 'viewer', models: ['tiny'] })
    const server = new ApiServer(
      baseInit({ keys: store, node: { status: () => ({ agent: 'uhCAkME' }) as unknown as StatusView } }),
    )
    await server.start()
    try {
      const call = (method: string, path: string, secret: string | null, body?: unknown) =>
        fetch(`${server.url}${path}`, {
          method,
          headers: {
            ...(secret === null ? {} : { authorization: `Bearer ${secret}` }),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
      expect(await (await call('GET', '/api/session', 'the-token')).json()).toEqual({
        signed_in_with: 'token',
      })
      for (const [method, path, body] of [
        ['GET', '/api/status', undefined],
        ['GET', '/api/session', undefined],
        ['GET', '/metrics', undefined],
        ['POST', '/api/memory/collections/notes/query', { k: 1 }],
        ['POST', '/api/tasks', { kind: 'echo', input: {} }],
        ['POST', '/api/models/tiny/load', {}],
      ] as const) {
        const refused = await call(method, path, key, body)
        expect(refused.status, path).toBe(403)
        expect(await refused.json(), path).toMatchObject({
          error: {
            name: 'KeyNotAllowedError',
            message: expect.stringMatching(
              new RegExp(`^API key ${record.id} reaches /v1 and /mcp only: ${path} .*\`ripple token\``),
            ),
          },
        })
      }
      const wrong = await call('GET', '/api/status', 'rpl_000000000000_wrong')
      expect(wrong.status).toBe(401)
      expect(await wrong.json()).toMatchObject({ error: { message: 'wrong API token or key' } })
      expect(await (await call('GET', '/api/status', null)).json()).toMatchObject({
        error: { message: expect.stringContaining('missing API token') },
      })
      await store.revoke(record.id)
      const revoked = await call('GET', '/api/status', key)
      expect(revoked.status).toBe(401)
      expect(await revoked.json()).toMatchObject({ error: { message: `API key ${record.id} was revoked` } })
    } finally {
      await server.stop()
    }
  })

  it('the token sent from another machine is refused with what to use instead', async () => {
    const init = { token: 'the-token', keys: new ApiKeyStore(join(dir, 'none.json')), requireKeys: true }
    const refused = await authenticate(init, { authorization: 'Bearer the-token' }, '192.0.2.7')
    expect(refused).toMatchObject({ failureKind: 'forbidden', code: 'token_not_allowed' })
  })
})

describe('the API host', () => {
  it('refuses to listen beyond loopback unless keys are required', async () => {
    await expect(new ApiServer(baseInit({ host: '0.0.0.0' })).start()).rejects.toThrow(ApiHostNeedsKeysError)
    const server = new ApiServer(baseInit({ host: '0.0.0.0', requireKeys: true }))
    await server.start()
    await server.stop()
  })
})

type StandInOutcome = 'unassigned' | 'unclaimable' | 'failed'

/**
 * A scheduler stand-in: tasks are never assigned (the scheduler saying so, as `unclaimable`, or not),
 * or are assigned and then fail.
 */
function standInScheduler(outcome: StandInOutcome) {
  const view = (status: string, assignments: unknown[]) =>
    ({
      state: {
        status,
        assignments,
        task: { action_hash: 'uhCkkTASK' },
        results: [],
        receipt: null,
        cancellation: null,
      },
      why_unclaimed: status === 'submitted' ? '2 nodes have less than 64.0 GiB of RAM' : null,
      decisions: [],
    }) as unknown as TaskView
  let cancelled = false
  return {
    cancelled: () => cancelled,
    scheduler: {
      submit: async () => ({ action_hash: 'uhCkkTASK', entry_hash: 'uhCEkTASK' }),
      cancel: async () => {
        cancelled = true
        return { action_hash: 'uhCkkC', entry_hash: 'uhCEkC' }
      },
      view: async () => (outcome === 'failed' ? view('failed', [{}]) : view('submitted', [])),
      watch: (_: string, listener: (event: TaskEvent) => void) => {
        setTimeout(() => {
          if (outcome !== 'failed')
            listener({ type: 'status', status: 'submitted', attempt: null, assignee: null })
          if (outcome === 'unclaimable')
            listener({ type: 'waiting', reason: 'no node has any model', unclaimable: true })
          if (outcome === 'failed') {
            listener({ type: 'status', status: 'assigned', attempt: 1, assignee: 'uhCAkPEER' })
            listener({ type: 'status', status: 'failed', attempt: 1, assignee: 'uhCAkPEER' })
          }
        }, 5)
        return () => {}
      },
    },
  }
}

function peerWith(model: string, queue: number): PeerEntry {
  return {
    agent: 'uhCAkPEER',
    self: false,
    status: 'online',
    name: 'p',
    capability: {
      ...CAPABILITY,
      inference: {
        tokens_per_second: null,
        models: [
          {
            name: model,
            file_hash: 'a'.repeat(64),
            size_bytes: 1,
            parameters: 1,
            quantisation: null,
            context_length: 1,
            architecture: 'llama',
            loaded: false,
          },
        ],
      },
    },
    load: { queue_depth: queue } as PeerEntry['load'],
    last_heartbeat_ms_ago: 0,
  }
}

describe('no peer can serve it now', () => {
  const serve = async (outcome: StandInOutcome, queue: number, assignTimeoutMs = 50) => {
    const standIn = standInScheduler(outcome)
    const inference = new RequestRunner({
      scheduler: standIn.scheduler,
      workers: { get: () => undefined },
      peers: async () => [peerWith('tiny', queue)],
      assignTimeoutMs,
    })
    const server = new ApiServer(baseInit({ components: { requests: inference } }))
    await server.start()
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: 'Bearer the-token', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return {
        status: res.status,
        task: res.headers.get('x-ripple-task'),
        body: (await res.json()) as Record<string, unknown>,
      }
    }
    const chat = await post('/v1/chat/completions', {
      model: 'tiny',
      messages: [{ role: 'user', content: 'q' }],
    })
    const messages = await post('/v1/messages', {
      model: 'tiny',
      max_tokens: 4,
      messages: [{ role: 'user', content: 'q' }],
    })
    await server.stop()
    return { chat, messages, cancelled: standIn.cancelled() }
  }

  it('503 with the reason, in both shapes, and the task is cancelled', async () => {
    const { chat, messages, cancelled } = await serve('unassigned', 0)
    expect(chat.status).toBe(503)
    expect(chat.task).toBe('uhCkkTASK')
    expect(chat.body).toEqual({
      error: {
        message: 'no peer can serve model "tiny" now: 2 nodes have less than 64.0 GiB of RAM',
        type: 'server_error',
        param: null,
        code: 'no_capacity',
      },
    })
    expect(messages.status).toBe(503)
    expect(messages.body).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } })
    expect(cancelled).toBe(true)
  })

  it('503 at once, not at the timeout, when the scheduler says no peer will claim it', async () => {
    // An hour's assign timeout: only the scheduler's `unclaimable` can end these requests.
    const { chat, messages, cancelled } = await serve('unclaimable', 0, 3_600_000)
    expect(chat.status).toBe(503)
    expect(chat.body).toMatchObject({ error: { code: 'no_capacity' } })
    expect(messages.status).toBe(503)
    expect(cancelled).toBe(true)
  })

  it('429 when every peer with the model is busy', async () => {
    const { chat, messages } = await serve('unassigned', 3)
    expect(chat.status).toBe(429)
    expect(chat.body).toMatchObject({ error: { type: 'rate_limit_error', code: 'peers_busy' } })
    expect(messages.body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
  })

  it('502 when a peer took it and the answers failed', async () => {
    const { chat } = await serve('failed', 0)
    expect(chat.status).toBe(502)
    expect(chat.body).toMatchObject({ error: { code: 'task_failed' } })
  })
})
