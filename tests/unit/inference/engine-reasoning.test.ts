/**
 * Reasoning and tool turns on the engine, with generated models carrying templates taken from
 * llama.cpp's own collection (the bundled source): a thinking family whose template opens the block
 * (DeepSeek-R1 distill, MiniMax-M2, the latter with XML-style calls), one whose model may open it
 * (Qwen 3, GLM-4.6), Kimi K2 (llama.cpp's own parser, no grammar of a schema), and Qwen 2.5, Llama
 * 3.2, Mistral Small 3.2, Phi-3.5 and Gemma 2; MiniMax-M2's also on a SentencePiece tokenizer, where
 * llama.cpp's budget never starts. Random weights never close a reasoning block themselves (the tags
 * are 8 plain tokens): only a budget or max_tokens ends it, so each assertion on where the tokens went
 * is certain.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EngineModel } from '../../../host/inference/engine/engine-model.ts'
import type { GenerateRequest } from '../../../host/inference/generate.ts'
import { TINY_MODEL, writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import {
  LLAMA_CPP_TEMPLATE_NAMES,
  LLAMA_CPP_TEMPLATES,
  type LlamaCppTemplate,
  llamaCppTemplate,
} from '../../fixtures/gguf-gen/llama-cpp-templates.ts'
import { type ModelsFixture, modelsFixture } from './inference-fixtures.ts'

let fixture: ModelsFixture

beforeAll(async () => {
  // Mistral Small 3.2's template writes a system prompt of ~2,500 tokens.
  fixture = await modelsFixture(TINY_MODEL, 4096)
  for (const name of LLAMA_CPP_TEMPLATE_NAMES)
    await writeLlamaModel(join(fixture.dir, `${name}.gguf`), {
      ...TINY_MODEL,
      chatTemplate: await llamaCppTemplate(name),
    })
  // SentencePiece's way: a space before a text after a control token, so `<think>` tokenized alone
  // (with the space) is not the `\n<think>` the prompt ends in, and llama.cpp's budget never starts.
  await writeLlamaModel(join(fixture.dir, 'minimax-m2-sp.gguf'), {
    ...TINY_MODEL,
    chatTemplate: { ...(await llamaCppTemplate('minimax-m2')), spacePrefix: true },
  })
}, 60_000)
afterAll(async () => {
  await fixture?.close()
})

const greedy = { temperature: 0, seed: 3 }
const ask = [{ role: 'user' as const, content: 'What is the weather in Oslo?' }]
const weather = {
  name: 'weather',
  description: 'The weather in a city',
  parameters: {
    type: 'object',
    // An enum: random weights fill a free string with multi-byte junk until max_tokens.
    properties: { city: { enum: ['Oslo', 'Bergen'] } },
    required: ['city'],
  },
}
const toolTurn = [
  ...ask,
  { role: 'assistant' as const, content: '', tool_calls: [{ id: 'call1', ...callOf('Oslo') }] },
  { role: 'tool' as const, content: '{"sky": "clear"}', tool_call_id: 'call1' },
]

function callOf(city: string) {
  return { name: 'weather', arguments: JSON.stringify({ city }) }
}

async function run(
  name: LlamaCppTemplate | 'minimax-m2-sp',
  request: Omit<GenerateRequest, 'temperature' | 'seed'>,
) {
  const model: EngineModel = await fixture.manager.load(name)
  const reasoning: string[] = []
  const text: string[] = []
  const result = await model.generate(
    { ...greedy, ...request },
    { onEvent: (e) => e.type !== 'tool-call' && (e.type === 'reasoning' ? reasoning : text).push(e.text) },
  )
  return { ...result, pieces: { reasoning, text } }
}

describe.each(['deepseek-r1', 'minimax-m2'] as const)(
  'a template that opens the reasoning itself (%s)',
  { timeout: 60_000 },
  (name) => {
    it('shows the reasoning apart, streamed as it comes; max_tokens spent in it says so', async () => {
      const answer = await run(name, { messages: ask, max_tokens: 16 })
      expect(answer.reasoning).not.toBe('')
      expect(answer.pieces.reasoning.join('')).toBe(answer.reasoning)
      expect(answer.text).toBe('')
      expect(answer.stop_reason).toBe('max_tokens')
      expect(answer.generated_tokens).toBe(16)
      expect(answer.reasoning_tokens).toBe(16)
    })

    it('bounds the reasoning by a budget, the answer getting the rest', async () => {
      const answer = await run(name, { messages: ask, max_tokens: 24, reasoning_budget: 6 })
      expect(answer.reasoning).not.toBe('')
      expect(answer.pieces.reasoning.length).toBeLessThanOrEqual(6)
      expect(answer.text).not.toBe('')
      expect(answer.pieces.text.join('')).toBe(answer.text)
      // Up to the reasoning's last piece: the budget's tokens, and those llama.cpp takes to end the
      // block (a character it cut finished, text held back that could have begun the end tag).
      expect(answer.reasoning_tokens).toBeGreaterThanOrEqual(answer.pieces.reasoning.length)
      expect(answer.reasoning_tokens).toBeLessThanOrEqual(6 + 8)
    })

    it('says length with the reasoning shown when max_tokens ends it inside its budget', async () => {
      const answer = await run(name, { messages: ask, max_tokens: 8, reasoning_budget: 6 })
      expect(answer.reasoning).not.toBe('')
      expect(answer.stop_reason).toBe('max_tokens')
      expect(answer.generated_tokens).toBe(8)
      expect(answer.reasoning_tokens).toBe(8)
    })

    it('turns thinking off with a budget of 0', async () => {
      const answer = await run(name, { messages: ask, max_tokens: 12, reasoning_budget: 0 })
      expect(answer.reasoning).toBe('')
      expect(answer.reasoning_tokens).toBe(0)
      expect(answer.text).not.toBe('')
      expect(answer.generated_tokens).toBe(12)
    })

    it('constrains the answer after the reasoning: a JSON schema parses, a forced call reads', async () => {
      const schema = weather.parameters
      const json = await run(name, { messages: ask, max_tokens: 64, json_schema: schema })
      expect(json.reasoning).not.toBe('')
      expect(json.json).toMatchObject({ city: expect.any(String) })
      expect(JSON.parse(json.text)).toEqual(json.json)
      const call = await run(name, {
        messages: ask,
        max_tokens: 64,
        tools: [weather],
        tool_choice: { name: 'weather' },
      })
      expect(call.reasoning).not.toBe('')
      expect(call.tool_calls).toHaveLength(1)
      expect(JSON.parse(call.tool_calls[0]?.arguments ?? '')).toMatchObject({ city: expect.any(String) })
    })
  },
)

describe('a budget where llama.cpp does not start its own (minimax-m2 on a SentencePiece tokenizer)', {
  timeout: 60_000,
}, () => {
  it('holds: the reasoning ends at its budget and the answer has the rest', async () => {
    // reasoning_effort low on 160 tokens: it reasoned all 160 and answered nothing.
    const answer = await run('minimax-m2-sp', { messages: ask, max_tokens: 160, reasoning_budget: 20 })
    expect(answer.reasoning).not.toBe('')
    expect(answer.reasoning_tokens).toBeLessThanOrEqual(20)
    expect(answer.pieces.reasoning.join('')).toBe(answer.reasoning)
    expect(answer.text).not.toBe('')
    expect(answer.pieces.text.join('')).toBe(answer.text)
    expect(answer.stop_reason).toBe('max_tokens')
    expect(answer.generated_tokens).toBeLessThanOrEqual(160)
  })

  it('gives a JSON schema and a forced call their half after the reasoning', async () => {
    const json = await run('minimax-m2-sp', {
      messages: ask,
      max_tokens: 128,
      json_schema: weather.parameters,
    })
    expect(json.reasoning_tokens).toBeLessThanOrEqual(64)
    expect(json.json).toMatchObject({ city: expect.any(String) })
    const call = await run('minimax-m2-sp', {
      messages: ask,
      max_tokens: 128,
      tools: [weather],
      tool_choice: { name: 'weather' },
    })
    expect(call.tool_calls).toHaveLength(1)
  })
})

describe('max_tokens past the context, on a thinking model (deepseek-r1)', { timeout: 60_000 }, () => {
  it("keeps the budget's share of what the context leaves, and answers", async () => {
    // An agent's 32768 with effort low (1/8) on a 4096-token context: 4096 of reasoning would fill it.
    const answer = await run('deepseek-r1', { messages: ask, max_tokens: 32_768, reasoning_budget: 4_096 })
    const room = 4096 - answer.prompt_tokens
    expect(answer.stop_reason).toBe('max_tokens')
    expect(answer.generated_tokens).toBe(room)
    expect(answer.reasoning_tokens).toBeLessThanOrEqual(Math.floor(room / 8))
    expect(answer.text).not.toBe('')
  })
})

describe('a template whose llama.cpp parser makes no grammar of a schema (kimi-k2)', {
  timeout: 60_000,
}, () => {
  it('takes a JSON schema and a forced call, again and again', async () => {
    for (let i = 0; i < 2; i++) {
      const json = await run('kimi-k2', { messages: ask, max_tokens: 64, json_schema: weather.parameters })
      expect(json.json).toMatchObject({ city: expect.any(String) })
      const call = await run('kimi-k2', {
        messages: ask,
        max_tokens: 64,
        tools: [weather],
        tool_choice: { name: 'weather' },
      })
      expect(JSON.parse(call.tool_calls[0]?.arguments ?? '')).toMatchObject({ city: expect.any(String) })
    }
  })
})

describe('a template whose model may open the reasoning (qwen3)', { timeout: 60_000 }, () => {
  it('answers in text when the model does not open it, and takes a budget of 0', async () => {
    const on = await run('qwen3', { messages: ask, max_tokens: 12 })
    expect(on.reasoning).toBe('')
    expect(on.reasoning_tokens).toBe(0)
    expect(on.text).not.toBe('')
    const off = await run('qwen3', { messages: ask, max_tokens: 12, reasoning_budget: 0 })
    expect(off.reasoning).toBe('')
    // The prompt holds the closed block enable_thinking off writes: the answer comes from elsewhere.
    expect(off.prompt_tokens).toBeGreaterThan(on.prompt_tokens)
  })
})

describe('a template that takes no tool turns (gemma2: its roles must alternate)', {
  timeout: 60_000,
}, () => {
  it('answers them written as text, in text', async () => {
    const answer = await run('gemma2', { messages: toolTurn, max_tokens: 8, tools: [weather] })
    expect(answer.tool_calls).toEqual([])
    expect(answer.text).not.toBe('')
    expect(answer.pieces.text.join('')).toBe(answer.text)
    expect(answer.stop_reason).toBe('max_tokens')
    // The call and its result are in the prompt, as text.
    const bare = await run('gemma2', { messages: ask, max_tokens: 8, tools: [weather] })
    expect(answer.prompt_tokens).toBeGreaterThan(bare.prompt_tokens + 40)
  })

  it('still refuses, as a 400 naming the template, a conversation it cannot render at all', async () => {
    const model = await fixture.manager.load('gemma2')
    const opening = { role: 'assistant' as const, content: 'Hello.' }
    await expect(
      model.generate({ ...greedy, messages: [opening, ...toolTurn], max_tokens: 8, tools: [weather] }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/chat template of model "gemma2".*roles must alternate/s),
    })
  })
})

describe.each(LLAMA_CPP_TEMPLATE_NAMES)('tool turns on %s', { timeout: 60_000 }, (name) => {
  it(`answers a conversation holding a call and its result (${LLAMA_CPP_TEMPLATES[name].why})`, async () => {
    const answer = await run(name, { messages: toolTurn, max_tokens: 8, tools: [weather] })
    expect(answer.generated_tokens).toBeGreaterThan(0)
    expect(answer.text + answer.reasoning + answer.tool_calls.length).not.toBe('')
  })
})

describe.each(LLAMA_CPP_TEMPLATE_NAMES)('a forced call on %s', { timeout: 60_000 }, (name) => {
  it('forces a call after a tool turn: its arguments parse', async () => {
    const answer = await run(name, {
      messages: toolTurn,
      max_tokens: 64,
      tools: [weather],
      tool_choice: 'required',
    })
    expect(answer.tool_calls).toHaveLength(1)
    expect(JSON.parse(answer.tool_calls[0]?.arguments ?? '')).toMatchObject({ city: expect.any(String) })
  })
})

describe('a template that drops tool turns (phi3.5: it renders system, user and assistant only)', {
  timeout: 60_000,
}, () => {
  it('answers them written as text, so the call and its result reach the model', async () => {
    const answer = await run('phi3.5', { messages: toolTurn, max_tokens: 8, tools: [weather] })
    expect(answer.tool_calls).toEqual([])
    expect(answer.text).not.toBe('')
    expect(answer.stop_reason).toBe('max_tokens')
    // Dropped, the two turns took 6 tokens (an empty assistant turn); as text, the call and result.
    const bare = await run('phi3.5', { messages: ask, max_tokens: 8, tools: [weather] })
    expect(answer.prompt_tokens).toBeGreaterThan(bare.prompt_tokens + 40)
  })
})
