/**
 * A new file is a model at once: a GGUF copied into the models directory of a running `ripple up` is
 * advertised within a couple of seconds (the periodic capability refresh is 30 s away) and answered on
 * that very peer's `/v1` through the official client (asked at once, before that, it is served here
 * all the same); a model idle past `--keep-alive` unloads by itself
 * and `ripple models ls` says when it will; `ripple status` says what the split tensor cache holds.
 */
import { copyFile, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelsView, StatusView } from '../../host/api/contract/index.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

let root: string
let dataDir: string
let models: string
let daemon: RunningRipple
let openai: OpenAI

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-e2e-model-arrives-'))
  dataDir = join(root, 'data')
  models = join(root, 'models')
  await mkdir(models)
  daemon = await startRipple([
    ...['--data-dir', dataDir, '--models-dir', models, '--context-size', '256', '--threads', '1'],
    ...['--keep-alive', '5s', '--api-port', '0', '--log-level', 'warn'],
  ])
  const { api_url: url } = JSON.parse(await readFile(join(dataDir, 'daemon.json'), 'utf8')) as {
    api_url: string
  }
  const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0 })
}, 90_000)

afterAll(async () => {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

const listed = async () =>
  JSON.parse((await runRipple(['models', 'ls', '--json', '--data-dir', dataDir])).stdout) as ModelsView

describe('models come and go on a running peer', { timeout: 60_000 }, () => {
  it('advertises a file copied in within seconds, and answers it on /v1 at once', async () => {
    const none = await openai.models.list()
    expect(none.data.map((m) => m.id)).not.toContain('arrived')
    // Written elsewhere, then copied in the way a person does (a copy grows, then settles).
    const made = join(root, 'made.gguf')
    await writeLlamaModel(made, TINY_MODEL)
    await copyFile(made, join(models, 'arrived.gguf.part'))
    const copiedAt = Date.now()
    await rename(join(models, 'arrived.gguf.part'), join(models, 'arrived.gguf'))
    for (;;) {
      const ids = (await openai.models.list()).data.map((m) => m.id)
      if (ids.includes('arrived')) break
      expect(Date.now() - copiedAt, 'advertised within 5 s (the periodic refresh is 30 s)').toBeLessThan(
        5_000,
      )
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const answer = await openai.chat.completions.create({
      model: 'arrived',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 4,
      temperature: 0,
    })
    expect(answer.choices[0]?.finish_reason).toBeDefined()
    expect(answer.usage?.completion_tokens).toBeGreaterThan(0)
  })

  it('shows when the loaded model unloads, and unloads it once idle past --keep-alive', async () => {
    const model = (await listed()).models.find((m) => m.name === 'arrived')
    expect(model?.loaded).toBe(true)
    expect(model!.unloads_at! - model!.idle_since!).toBe(5_000)
    const text = (await runRipple(['models', 'ls', '--data-dir', dataDir])).stdout
    expect(text).toMatch(/arrived +yes \(idle \S+, unloads in \S+\)/)
    for (const deadline = Date.now() + 15_000; ; ) {
      if ((await listed()).models.find((m) => m.name === 'arrived')?.loaded === false) break
      expect(Date.now()).toBeLessThan(deadline)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    // The capability says so at once (not at the 30 s refresh): routing stops counting it loaded.
    const unloadedAt = Date.now()
    for (;;) {
      const arrived = (await openai.models.list()).data.find((m) => m.id === 'arrived') as
        | { ripple?: { loaded_on: string[] } }
        | undefined
      if (arrived?.ripple?.loaded_on.length === 0) break
      expect(Date.now() - unloadedAt, 'advertised unloaded within 3 s').toBeLessThan(3_000)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })

  it('says in ripple status what the split tensor cache holds of its cap', async () => {
    const status = JSON.parse(
      (await runRipple(['status', '--json', '--data-dir', dataDir])).stdout,
    ) as StatusView
    expect(status.rpc_cache).toMatchObject({ bytes: 0 })
    expect(status.rpc_cache?.cap_bytes).toBeGreaterThan(0)
    const text = (await runRipple(['status', '--data-dir', dataDir])).stdout
    expect(text).toMatch(/rpc cache +0 B of \S+/)
  })

  it('answers a file copied in at once, on this peer, before the mesh has heard of it', async () => {
    const made = join(root, 'instant-made.gguf')
    await writeLlamaModel(made, { ...TINY_MODEL, seed: 3 })
    await copyFile(made, join(models, 'instant.gguf.part'))
    await rename(join(models, 'instant.gguf.part'), join(models, 'instant.gguf'))
    // Asked at once: the directory's change is told only after it settles (two looks 250 ms apart).
    const answer = await openai.chat.completions.create({
      model: 'instant',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 4,
      temperature: 0,
    })
    expect(answer.model).toBe('instant')
    expect(answer.usage?.completion_tokens).toBeGreaterThan(0)
    // Another name is still no model of the mesh.
    const missing = await openai.chat.completions
      .create({ model: 'nowhere', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 4 })
      .catch((err: unknown) => err)
    expect((missing as InstanceType<typeof OpenAI.APIError>).status).toBe(404)
  })
})
