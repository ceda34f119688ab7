/**
 * What llama-server's slots give a loaded model: requests served at once (continuous batching), each
 * with the text it gets alone, and prompt reuse: a request sharing a prefix with an earlier one
 * reuses its evaluated tokens and still gives the same greedy text as a fresh engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EngineModel } from '../../../host/inference/engine/engine-model.ts'
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
  it('serves several requests at once, each with the text it gets alone', async () => {
    expect(model.slots).toBeGreaterThanOrEqual(2)
    const prompts = ['Once', 'Twice', 'Thrice', 'Lastly'].slice(0, model.slots)
    const ask = (prompt: string) => model.generate({ ...greedy, max_tokens: 48, prompt })
    const alone = []
    for (const prompt of prompts) alone.push((await ask(prompt)).text)
    const together = await Promise.all(prompts.map(ask))
    expect(together.map((r) => r.text)).toEqual(alone)
    expect(alone.every((text) => text.length > 0)).toBe(true)
    // Served at once, not one after another: every request had its first token before any ended.
    const lastFirstToken = Math.max(...together.map((r) => r.time_to_first_token_ms))
    const firstEnd = Math.min(...together.map((r) => r.total_ms))
    expect(lastFirstToken).toBeLessThan(firstEnd)
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
