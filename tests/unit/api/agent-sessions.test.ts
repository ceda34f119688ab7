/**
 * Agent sessions through `/v1` (issue 58, point 4): the session a coding agent's headers name reaches
 * the request (its affinity key), a key's per-session turn cap refuses the N+1th turn of that session
 * with a 429 in the API's shape while its other sessions go on, a junk header is ignored (never an
 * error), and `/api/usage?by=session` sums the signed usage by session.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeyStore } from '../../../host/api/api-keys.ts'
import { ApiServer } from '../../../host/api/api-server.ts'
import { ApiClient } from '../../../host/api/client/api-client.ts'
import type { ConductorPort } from '../../../host/interface/conductor-port.ts'
import type { AgentSession } from '../../../host/requests/agent-session.ts'
import type { InferenceRequest, RequestsPort } from '../../../host/requests/requests-port.ts'
import { UsageLedger } from '../../../host/usage/usage-ledger.ts'
import type { ServedLeaf } from '../../../zomes-bindings/index.ts'
import { baseInit, generateOutput, statusView } from './fixtures.ts'

const RUNNER = `uhCAk${'r'.repeat(48)}`
let dir: string
let server: ApiServer
let key = ''
const seen: (AgentSession | null)[] = []
const answered: string[] = []
const ledger = new UsageLedger()

const requests: RequestsPort = {
  models: async () => [],
  run: async (request: InferenceRequest) => {
    seen.push(request.session ?? null)
    const task = String(answered.length).padStart(64, '0')
    answered.push(task)
    request.onEvent?.({ type: 'submitted', task })
    return { task, peer: RUNNER, output: generateOutput() }
  },
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-agent-sessions-'))
  const store = new ApiKeyStore(join(dir, 'api-keys.json'))
  key = (await store.create({ limits: { session_turns: 2 } })).key
  server = new ApiServer(
    baseInit({ keys: store, node: { status: statusView }, components: { requests, usage: ledger } }),
  )
  await server.start()
})

afterAll(async () => {
  await server.stop()
  await rm(dir, { recursive: true, force: true })
})

const chat = (headers: Record<string, string>) =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }] }),
  })

const CLAUDE = { 'x-claude-code-session-id': '8f1f0b18-2fb3-4c24-9a9a-0123456789ab' }

describe('agent sessions on /v1', () => {
  it('hands the session to the request, and refuses the third turn of a session capped at 2', async () => {
    expect((await chat(CLAUDE)).status).toBe(200)
    expect((await chat({ ...CLAUDE, 'x-claude-code-agent-id': 'sub-1' })).status).toBe(200)
    expect(seen).toEqual([
      { agent: 'claude-code', id: CLAUDE['x-claude-code-session-id'], thread: null, parent: null },
      { agent: 'claude-code', id: CLAUDE['x-claude-code-session-id'], thread: 'sub-1', parent: null },
    ])
    const refused = await chat(CLAUDE)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(await refused.json()).toMatchObject({
      error: {
        type: 'rate_limit_error',
        message: expect.stringMatching(/limit of 2 turns per session \(2 used\)/),
      },
    })
    expect(seen).toHaveLength(2)
    // Another session of the key, and a request naming none, go on.
    expect((await chat({ 'session-id': 'codex-thread-1' })).status).toBe(200)
    expect((await chat({})).status).toBe(200)
  })

  it('ignores a junk header: the request runs as one without a session', async () => {
    const before = seen.length
    expect((await chat({ 'x-claude-code-session-id': 'x'.repeat(500) })).status).toBe(200)
    expect(seen.slice(before)).toEqual([null])
  })

  it('sums the signed usage by session in /api/usage?by=session', async () => {
    const leaf = (request: string): ServedLeaf => ({
      request,
      runner: RUNNER,
      model: 'tiny',
      proof: null,
      output_hash: 'c'.repeat(64),
      accepted: true,
      reason: '',
    })
    const conductor = ledger.watch({ callZome: async () => ({}) } as unknown as Pick<
      ConductorPort,
      'callZome'
    >)
    await conductor.callZome('resource_mesh', 'record_served_batch', {
      leaves: { leaves: answered.map(leaf) },
      closed_at: Date.now() * 1000,
    } as never)
    const client = new ApiClient({ baseUrl: server.url, token: 'the-token' })
    const reply = await client.usage(undefined, { by: 'session' })
    expect(reply.sessions?.map((s) => [s.session, s.requests])).toEqual([
      ['claude-code:8f1f0b18-2fb3-4c24-9a9a-0123456789ab', 2],
      ['codex:codex-thread-1', 1],
    ])
    expect((await client.usage()).sessions).toBeUndefined()
  })
})
