/**
 * Every chat template of llama.cpp's own collection (`models/templates/*.jinja` in the bundled source)
 * on a generated model whose tokenizer is SentencePiece's (a space before a text that follows a
 * control token; the templates' markers plain text): there llama.cpp's own reasoning budget, which
 * matches a template's tags as tokens, misses the tag the prompt opens, so what holds the budget is
 * Ripple's reading of the stream. On each: a budget holds and the answer has the rest, thinking off
 * shows none, a JSON schema parses and a forced call is made, whether llama.cpp's parser for the
 * template makes a grammar of the schema or not.
 */
import { readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engineBuild } from '../../../host/inference/engine/engine-build.ts'
import type { GenerateRequest } from '../../../host/inference/generate.ts'
import { TINY_MODEL, writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import { type ModelsFixture, modelsFixture } from './inference-fixtures.ts'

const dir = join((await engineBuild()).root, 'src', 'models', 'templates')
const TEMPLATES = readdirSync(dir).filter((f) => f.endsWith('.jinja'))
/**
 * llama.cpp's grammar for gpt-oss lets the model name its output's constraint type in as many
 * letters as it likes before the JSON (`<|channel|>final <|constrain|>json<|message|>`): a real model
 * writes `json`, random weights never end it.
 */
const UNBOUNDED_HEADER = new Set(['openai-gpt-oss-120b.jinja'])

// Mistral's templates write a system prompt of ~2,500 tokens.
const CONTEXT = 8192
let fixture: ModelsFixture

beforeAll(async () => {
  fixture = await modelsFixture(TINY_MODEL, CONTEXT)
}, 60_000)
afterAll(async () => {
  await fixture?.close()
})

const ask = [{ role: 'user' as const, content: 'What is the weather in Oslo?' }]
const weather = {
  name: 'weather',
  parameters: { type: 'object', properties: { city: { enum: ['Oslo', 'Bergen'] } }, required: ['city'] },
}

describe.each(TEMPLATES)('%s', { timeout: 60_000 }, (file) => {
  const name = file.replace(/\.jinja$/, '').replace(/[^A-Za-z0-9-]/g, '-')
  const run = async (request: Omit<GenerateRequest, 'temperature' | 'seed'>) =>
    (await fixture.manager.load(name)).generate({ temperature: 0, seed: 5, ...request })

  beforeAll(async () => {
    const template = await readFile(join(dir, file), 'utf8')
    await writeLlamaModel(join(fixture.dir, `${name}.gguf`), {
      ...TINY_MODEL,
      contextLength: CONTEXT,
      chatTemplate: { template, specials: ['</s>'], spacePrefix: true },
    })
  })
  afterAll(async () => {
    await fixture.manager.unload(name)
  })

  it('keeps a reasoning budget, the answer having the rest; thinking off shows none', async () => {
    const bounded = await run({ messages: ask, max_tokens: 64, reasoning_budget: 8 })
    if (bounded.reasoning !== '') {
      // 8, and what llama.cpp's own budget takes to end the block.
      expect(bounded.reasoning_tokens).toBeLessThanOrEqual(8 + 8)
      expect(bounded.text).not.toBe('')
    }
    const off = await run({ messages: ask, max_tokens: 8, reasoning_budget: 0 })
    expect(off.reasoning).toBe('')
  })

  it('takes a JSON schema and a forced call', async () => {
    const json = await run({ messages: ask, max_tokens: 96, json_schema: weather.parameters })
    if (UNBOUNDED_HEADER.has(file)) {
      // The grammar is applied, but random weights never end the header it lets come first: the
      // answer is cut by max_tokens, with no JSON claimed (a real model writes `json` and ends it).
      expect(json.stop_reason).toBe('max_tokens')
      expect(json.json).toBeNull()
      return
    }
    expect(json.json).toMatchObject({ city: expect.any(String) })
    const call = await run({
      messages: ask,
      max_tokens: 96,
      tools: [weather],
      tool_choice: { name: 'weather' },
    })
    expect(call.tool_calls).toHaveLength(1)
  })
})
