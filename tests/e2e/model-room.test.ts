/**
 * Room on demand, seen by an agent: one `ripple up` whose `--model-memory` holds two of its three
 * generated models (about 82 MiB each with their context). Asked for the third, it unloads the least
 * recently used idle one; with both others streaming answers, a request for the third is a 507 on
 * `/v1`, in each API's shape, naming what holds the memory (not a 503 blamed on capacity), and the
 * streams go on untouched; once they end, the third loads.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelsView } from '../../host/api/contract/index.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

const MODELS = ['coder', 'chat', 'third'] as const
let root: string
let dataDir: string
let daemon: RunningRipple
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-model-room-'))
  dataDir = join(root, 'data')
  const models = join(root, 'models')
  await mkdir(models)
  for (const [i, name] of MODELS.entries())
    await writeLlamaModel(join(models, `${name}.gguf`), { ...TINY_MODEL, seed: i + 1 })
  daemon = await startRipple([
    ...['--data-dir', dataDir, '--models-dir', models, '--model-memory', '180MiB', '--threads', '1'],
    ...['--api-port', '0', '--log-level', 'warn'],
  ])
  const { api_url: url } = JSON.parse(await readFile(join(dataDir, 'daemon.json'), 'utf8')) as {
    api_url: string
  }
  const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: url, apiKey: token, maxRetries: 0 })
}, 90_000)

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

const loaded = async () => {
  const view = JSON.parse(
    (await runRipple(['models', 'ls', '--json', '--data-dir', dataDir])).stdout,
  ) as ModelsView
  return view.models.filter((m) => m.loaded).map((m) => m.name)
}

const ask = (model: string) =>
  openai.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Hello' }],
    max_tokens: 4,
    temperature: 0,
  })

/**
 * A long answer streamed from `model`: a JSON array of at least 60 strings, which random weights fill
 * for thousands of tokens. Resolves once its first piece arrived; `ended` once it is over.
 */
async function longStream(model: string) {
  const stream = await openai.chat.completions.create({
    model,
    stream: true,
    max_tokens: 3000,
    temperature: 0,
    messages: [{ role: 'user', content: 'List things' }],
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'list',
        schema: {
          type: 'object',
          properties: { items: { type: 'array', items: { type: 'string' }, minItems: 60 } },
          required: ['items'],
        },
      },
    },
  })
  const chunks = stream[Symbol.asyncIterator]()
  await chunks.next()
  const state = { over: false, text: '' }
  const ended = (async () => {
    for (let c = await chunks.next(); !c.done; c = await chunks.next())
      state.text += c.value.choices[0]?.delta.content ?? ''
    state.over = true
  })()
  return { state, ended }
}

describe('room on demand over /v1', { timeout: 90_000 }, () => {
  it('unloads the least recently used idle model to load another', async () => {
    await ask('coder')
    await ask('chat')
    expect((await loaded()).sort()).toEqual(['chat', 'coder'])
    await ask('third')
    expect((await loaded()).sort()).toEqual(['chat', 'third'])
  })

  it('refuses with 507 naming what holds the memory while both stream, and loads it once they end', async () => {
    const streams = await Promise.all([longStream('chat'), longStream('third')])
    const refused = await ask('coder').catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(OpenAI.APIError)
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(507)
    expect((refused as Error).message).toMatch(/model "coder" needs about \d+ MiB/)
    expect((refused as Error).message).toMatch(
      /held by .*(chat|third) \(\d+ MiB, busy\).*(chat|third) \(\d+ MiB, busy\)/,
    )
    const messages = await anthropic.messages
      .create({ model: 'coder', max_tokens: 4, messages: [{ role: 'user', content: 'Hello' }] })
      .catch((err: unknown) => err)
    expect((messages as InstanceType<typeof Anthropic.APIError>).status).toBe(507)
    expect((messages as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      error: { type: 'overloaded_error' },
    })
    const stillStreaming = streams.map((s) => !s.state.over)
    // The refusals came while both answers were still streaming, and neither was cut by them.
    expect(stillStreaming).toEqual([true, true])
    await Promise.all(streams.map((s) => s.ended))
    for (const s of streams) expect(s.state.text.length).toBeGreaterThan(100)
    const answer = await ask('coder')
    expect(answer.usage?.completion_tokens).toBeGreaterThan(0)
    expect(await loaded()).toContain('coder')
  })
})
