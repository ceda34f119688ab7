/**
 * Virtual models through the real API server: aliases set, listed and removed with the typed client,
 * `/v1/models` listing them with what each runs now, and the endpoints running and answering with the
 * model an alias or a pattern chose (the name a request sent is never the one answered). Behind it:
 * the real alias service over a file in a temporary data dir, and a stand-in runner.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import { ApiClient, type ApiRequestError } from '../../../host/api/client/index.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { AliasFile } from '../../../host/requests/alias-file.ts'
import { AliasService } from '../../../host/requests/alias-service.ts'
import type { PeerModel } from '../../../host/requests/peer-models.ts'
import type { InferenceAnswer, InferenceRequest, RequestsPort } from '../../../host/requests/requests-port.ts'
import { baseInit, generateOutput } from './fixtures.ts'

const peerModel = (name: string, busy: string[] = []) =>
  ({ name, peers: ['uhCAkA'], loaded_on: ['uhCAkA'], busy, file_hashes: [] }) as unknown as PeerModel

/** The models the stand-in mesh serves; a test may mark one busy. */
let served: PeerModel[] = []
const ran: string[] = []
const inference = {
  models: async () => served,
  run: async (request: InferenceRequest): Promise<InferenceAnswer> => {
    ran.push(String(request.model))
    request.onEvent?.({ type: 'submitted', task: 'f'.repeat(64) })
    request.onEvent?.({ type: 'assigned', peer: 'uhCAkA' })
    request.onEvent?.({ type: 'token', text: 'hi' })
    return { task: 'f'.repeat(64), peer: 'uhCAkA', output: generateOutput({ text: 'hi' }) }
  },
} as unknown as RequestsPort

let dir: string
let file: string
let server: ApiServer
let api: ApiClient
let openai: OpenAI

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-aliases-'))
  file = join(dir, 'aliases.json')
  const aliases = new AliasFile(file, silentLogger())
  await aliases.load()
  server = new ApiServer(
    baseInit({
      components: { requests: inference, aliases: new AliasService({ file: aliases, mesh: null }) },
    }),
  )
  await server.start()
  api = new ApiClient({ baseUrl: server.url, token: 'the-token' })
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'the-token', maxRetries: 0 })
})
afterAll(async () => {
  await server?.stop()
  await rm(dir, { recursive: true, force: true })
})

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => err as ApiRequestError,
  )

describe('model aliases', () => {
  it('sets an alias on this peer, kept in aliases.json, and lists what it runs now', async () => {
    served = [peerModel('qwen3-coder-30b'), peerModel('qwen3-coder-7b')]
    const set = await api.setAlias({ name: 'coder', targets: ['qwen3-coder-30b', 'qwen3-coder-7b'] })
    expect(set).toEqual({
      name: 'coder',
      targets: ['qwen3-coder-30b', 'qwen3-coder-7b'],
      scope: 'peer',
      resolves_to: 'qwen3-coder-30b',
    })
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      aliases: [{ name: 'coder', targets: ['qwen3-coder-30b', 'qwen3-coder-7b'] }],
    })
    served = [peerModel('qwen3-coder-30b', ['uhCAkA']), peerModel('qwen3-coder-7b')]
    expect((await api.listAliases()).aliases).toEqual([{ ...set, resolves_to: 'qwen3-coder-7b' }])
  })

  it('/v1/models lists the alias after the models, with its models and what it runs now', async () => {
    served = [peerModel('qwen3-coder-30b'), peerModel('qwen3-coder-7b')]
    const { data } = (await (
      await fetch(`${server.url}/v1/models`, { headers: { authorization: 'Bearer the-token' } })
    ).json()) as { data: { id: string; ripple: Record<string, unknown> }[] }
    expect(data.map((m) => m.id)).toEqual(['qwen3-coder-30b', 'qwen3-coder-7b', 'coder'])
    expect(data[2]?.ripple).toEqual({
      alias_of: ['qwen3-coder-30b', 'qwen3-coder-7b'],
      resolves_to: 'qwen3-coder-30b',
      scope: 'peer',
    })
  })

  it('a request naming the alias runs, and is answered as, the model it chose', async () => {
    served = [peerModel('qwen3-coder-30b', ['uhCAkA']), peerModel('qwen3-coder-7b')]
    const answer = await openai.chat.completions.create({
      model: 'coder',
      messages: [{ role: 'user', content: 'hello' }],
    })
    expect(ran.at(-1)).toBe('qwen3-coder-7b')
    expect(answer.model).toBe('qwen3-coder-7b')
  })

  it("a pattern answers Claude Code's own model names, streamed too", async () => {
    served = [peerModel('qwen3-coder-30b')]
    await api.setAlias({ name: 'claude-*', targets: ['qwen3-coder-30b'] })
    const anthropic = new Anthropic({ baseURL: server.url, apiKey: 'the-token', maxRetries: 0 })
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hello' }],
    })
    expect(message.model).toBe('qwen3-coder-30b')
    const stream = anthropic.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hello' }],
    })
    expect((await stream.finalMessage()).model).toBe('qwen3-coder-30b')
    expect(ran.slice(-2)).toEqual(['qwen3-coder-30b', 'qwen3-coder-30b'])
  })

  it('an alias none of whose models is served is a 404 naming it and its models', async () => {
    served = [peerModel('qwen3-1.7b')]
    const err = await openai.chat.completions
      .create({ model: 'coder', messages: [{ role: 'user', content: 'hello' }] })
      .then(
        () => null,
        (e: unknown) => e as { status: number; message: string },
      )
    expect(err?.status).toBe(404)
    expect(err?.message).toContain(
      'alias "coder" names qwen3-coder-30b, qwen3-coder-7b; no peer of the mesh serves any of them',
    )
    expect((await api.listAliases()).aliases.find((a) => a.name === 'coder')?.resolves_to).toBeNull()
  })

  it('refuses an alias that names an alias, or that some alias names (no chain, no loop)', async () => {
    const chain = await refusal(api.setAlias({ name: 'fast', targets: ['coder'] }))
    expect(chain?.status).toBe(400)
    expect(chain?.message).toContain('"coder" is an alias (of qwen3-coder-30b, qwen3-coder-7b)')
    const target = await refusal(api.setAlias({ name: 'qwen3-coder-7b', targets: ['qwen3-1.7b'] }))
    expect(target?.status).toBe(400)
    expect(target?.message).toContain('"qwen3-coder-7b" is a target of alias "coder"')
  })

  it('refuses junk names and patterns before anything is written', async () => {
    const before = await readFile(file, 'utf8')
    for (const body of [
      { name: 'cl*de', targets: ['m'] },
      { name: 'coder', targets: [] },
      { name: 'coder', targets: ['qwen*'] },
      { name: 'a\nb', targets: ['m'] },
    ]) {
      const err = await refusal(api.setAlias(body))
      expect(err?.status, JSON.stringify(body)).toBe(400)
    }
    expect(await readFile(file, 'utf8')).toBe(before)
  })

  it('a mesh-wide alias, on a network that keeps none, is refused with what to do instead', async () => {
    const err = await refusal(api.setAlias({ name: 'x', targets: ['m'], mesh: true }))
    expect(err?.status).toBe(503)
    expect(err?.message).toContain('set it on this peer')
  })

  it('removes an alias; removing one that is not there is a 404', async () => {
    expect(await api.removeAlias({ name: 'claude-*' })).toEqual({ removed: 'claude-*', scope: 'peer' })
    expect((await api.listAliases()).aliases.map((a) => a.name)).toEqual(['coder'])
    const err = await refusal(api.removeAlias({ name: 'claude-*' }))
    expect(err?.status).toBe(404)
  })
})

describe('the aliases file', () => {
  it('is read back at start', async () => {
    const again = new AliasFile(file, silentLogger())
    await again.load()
    expect(again.list().map((a) => a.name)).toEqual(['coder'])
  })

  it('a corrupt one is left as it is, named in the log, and moved aside at the first write', async () => {
    const path = join(dir, 'corrupt.json')
    await writeFile(path, '{"aliases": [{"name": "cl*de"')
    const logged: string[] = []
    const logger = { ...silentLogger(), error: (_: unknown, msg: string) => logged.push(msg), warn: () => {} }
    const corrupt = new AliasFile(path, logger as never)
    await corrupt.load()
    expect(corrupt.list()).toEqual([])
    expect(logged[0]).toContain(`${path} is not a list of model aliases (not JSON)`)
    expect(await readFile(path, 'utf8')).toBe('{"aliases": [{"name": "cl*de"')
    await corrupt.set({ name: 'coder', targets: ['m'] })
    expect(await readFile(`${path}.corrupt`, 'utf8')).toBe('{"aliases": [{"name": "cl*de"')
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ aliases: [{ name: 'coder', targets: ['m'] }] })
  })
})
