/**
 * What llama-server's slots give a loaded model: requests served at once (continuous batching), each
 * with the text it gets alone, and prompt reuse: a request sharing a prefix with an earlier one
 * reuses its evaluated tokens and still gives the same greedy text as a fresh engine. The engine's
 * process listens on loopback only and answers only the daemon, which holds its key.
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EngineBackends } from '../../../host/inference/engine/engine-backends.ts'
import type { EngineModel } from '../../../host/inference/engine/engine-model.ts'
import { LlamaServerProcess } from '../../../host/inference/engine/llama-server-process.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { type ModelsFixture, modelsFixture } from './inference-fixtures.ts'

let warm: ModelsFixture
let cold: ModelsFixture
let model: EngineModel

beforeAll(async () => {
  ;[warm, cold] = await Promise.all([modelsFixture(), modelsFixture()])
  model = await warm.manager.load('tiny')
})
afterAll(async () => {
  await Promise.all([warm?.close(), cold?.close()])
})

const turn = (n: number) => ({ role: 'user' as const, content: `Turn ${n}: tell me more about the mesh.` })
const greedy = { max_tokens: 12, temperature: 0, seed: 3 }

describe('engine slots', { timeout: 60_000 }, () => {
  it('takes several requests at once (one per slot), each with the text it gets alone', async () => {
    expect(model.slots).toBeGreaterThanOrEqual(2)
    const prompts = ['Once', 'Twice', 'Thrice', 'Lastly'].slice(0, model.slots)
    const ask = (prompt: string) => model.generate({ ...greedy, max_tokens: 48, prompt })
    const alone = []
    for (const prompt of prompts) alone.push((await ask(prompt)).text)
    const together = await Promise.all(prompts.map(ask))
    expect(together.map((r) => r.text)).toEqual(alone)
    expect(alone.every((text) => text.length > 0)).toBe(true)
  })

  it('reuses the evaluated prefix of an agent loop, and answers as a fresh engine does', async () => {
    const messages = [turn(1)]
    const first = await model.generate({ ...greedy, messages })
    messages.push({ role: 'assistant', content: first.text } as never, turn(2))
    const second = await model.generate({ ...greedy, messages })
    // The second turn starts with the whole first one (its prompt and answer), evaluated already.
    expect(second.cached_tokens).toBeGreaterThan(first.prompt_tokens - 2)
    const fresh = await (await cold.manager.load('tiny')).generate({ ...greedy, messages })
    expect(fresh.cached_tokens).toBe(0)
    expect(second.text).toBe(fresh.text)
    expect(second.prompt_tokens).toBe(fresh.prompt_tokens)
  })
})

describe('the engine process', { timeout: 60_000 }, () => {
  it('listens on loopback only, with a key only the daemon knows: not in its arguments, its file gone once read', async () => {
    const backend = await new EngineBackends({
      logger: silentLogger(),
      devices: { nvidia: false, vulkan: false },
    }).active()
    const server = await LlamaServerProcess.start({
      dir: backend.dir,
      env: backend.env,
      args: ['-m', join(warm.dir, 'tiny.gguf'), '-c', '256', '-np', '1', '-t', '1'],
    })
    try {
      expect(new URL(server.url).hostname).toBe('127.0.0.1')
      const key = (server.headers.authorization ?? '').slice('Bearer '.length)
      expect(key.length).toBeGreaterThanOrEqual(32)
      const args = (await readFile(`/proc/${server.pid}/cmdline`, 'utf8')).split('\0')
      expect(args.some((a) => a.includes(key))).toBe(false)
      // Written 0600 in a 0700 dir for llama-server to read at start, then removed (engine-key-dirs.test.ts).
      const keyFile = args[args.indexOf('--api-key-file') + 1] ?? ''
      expect(keyFile).toMatch(/ripple-engine-key-\d+-/)
      await expect(stat(keyFile)).rejects.toMatchObject({ code: 'ENOENT' })
      const ask = (headers: Record<string, string>) =>
        fetch(`${server.url}/completion`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ prompt: 'Hi', n_predict: 1 }),
        })
      expect((await ask({ 'content-type': 'application/json' })).status).toBe(401)
      expect((await ask({ 'content-type': 'application/json', authorization: 'Bearer wrong' })).status).toBe(
        401,
      )
      expect((await ask(server.headers)).status).toBe(200)
    } finally {
      await server.stop()
    }
  })
})
