/**
 * Where a reasoning ends, whatever llama.cpp's own budget did: a stream whose reasoning goes past its
 * budget is left there (read no further), the budget keeping its share of max_tokens where the
 * context leaves less; the answer that goes on after it counts as one with it.
 */
import { describe, expect, it } from 'vitest'
import {
  continuedAnswer,
  emptyAnswer,
  type FoldedAnswer,
  foldChat,
  type ReasoningLimit,
  reasoningLimit,
} from '../../../host/inference/engine/server-stream.ts'
import { type GenerateRequest, outputRoom, withinContext } from '../../../host/inference/generate.ts'

/** llama-server's chat chunks, as a body read chunk by chunk; `read` counts the chunks taken. */
function body(chunks: object[]): AsyncIterable<Uint8Array> & { read: number } {
  const events = [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n']
  const stream = {
    read: 0,
    async *[Symbol.asyncIterator]() {
      for (const event of events) {
        stream.read++
        yield new TextEncoder().encode(event)
      }
    },
  }
  return stream
}

const timings = (predicted: number, prompt = 10) => ({ predicted_n: predicted, prompt_n: prompt, cache_n: 0 })
const reasoningChunk = (n: number) => ({
  choices: [{ delta: { reasoning_content: `r${n} ` } }],
  timings: timings(n),
})
const textChunk = (n: number) => ({ choices: [{ delta: { content: `t${n} ` } }], timings: timings(n) })
const limit: ReasoningLimit = { budget: 4, maxTokens: 100, contextSize: 4096 }

describe('a stream held to its reasoning budget', () => {
  it('is left past what llama.cpp takes to end a block, before any answer, and read no further', async () => {
    const stream = body(Array.from({ length: 30 }, (_, i) => reasoningChunk(i + 1)))
    const shown: string[] = []
    const answer = await foldChat(
      stream,
      { onEvent: (e) => e.type === 'reasoning' && shown.push(e.text) },
      limit,
    )
    expect(answer.stopType).toBe('budget')
    expect(answer.reasoning).toBe('r1 r2 r3 r4 ')
    expect(shown.join('')).toBe(answer.reasoning)
    expect(answer.reasoningTokens).toBe(4)
    // The pieces past the budget were generated, not shown: 8 waited, the 9th left the stream.
    expect(answer.generatedTokens).toBe(13)
    expect(answer.promptTokens).toBe(10)
    expect(stream.read).toBe(13)
  })

  it('shows the pieces past the budget once the answer begins: llama.cpp ended the block, late', async () => {
    const chunks = [...[1, 2, 3, 4, 5, 6].map(reasoningChunk), { choices: [{ delta: {} }] }, textChunk(8)]
    const answer = await foldChat(body(chunks), {}, limit)
    expect(answer.reasoning).toBe('r1 r2 r3 r4 r5 r6 ')
    expect(answer.reasoningTokens).toBe(6)
    expect(answer.text).toBe('t8 ')
  })

  it('shows no reasoning at all with a budget of 0 (thinking off)', async () => {
    const chunks = [1, 2, 3].map(reasoningChunk)
    const answer = await foldChat(body(chunks), {}, { ...limit, budget: 0 })
    expect(answer.stopType).toBe('budget')
    expect(answer.reasoning).toBe('')
    expect(answer.generatedTokens).toBe(1)
  })

  it('ends as it is where the piece past the budget is the last max_tokens allows', async () => {
    const stream = body(Array.from({ length: 5 }, (_, i) => reasoningChunk(i + 1)))
    const answer = await foldChat(stream, {}, { ...limit, maxTokens: 5 })
    expect(answer.reasoning).toBe('r1 r2 r3 r4 r5 ')
    expect(answer.stopType).not.toBe('budget')
  })

  it('is read to its end where the reasoning ended within the budget, or without one', async () => {
    const chunks = [reasoningChunk(1), reasoningChunk(2), ...[3, 4, 5, 6, 7].map(textChunk)]
    const within = await foldChat(body(chunks), {}, limit)
    expect(within.stopType).not.toBe('budget')
    expect(within.text).toBe('t3 t4 t5 t6 t7 ')
    const long = Array.from({ length: 9 }, (_, i) => reasoningChunk(i + 1))
    const unbounded = await foldChat(body(long), {})
    expect(unbounded.reasoning.split(' ')).toHaveLength(10)
  })

  it("keeps the budget's share of what the context leaves after the prompt", () => {
    const bound = { budget: 100, maxTokens: 800, contextSize: 1000 }
    expect.soft(reasoningLimit(bound, 100)).toBe(100)
    expect.soft(reasoningLimit(bound, 200)).toBe(100)
    expect.soft(reasoningLimit(bound, 600)).toBe(50)
    expect.soft(reasoningLimit(bound, 1000)).toBe(0)
  })
})

describe('max_tokens past the context', () => {
  const request = (max: number, budget?: number): GenerateRequest => ({
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: max,
    temperature: 0,
    seed: 1,
    ...(budget === undefined ? {} : { reasoning_budget: budget }),
  })

  it.each([
    ['within the context: as asked', request(512, 64), 512, 64],
    ['past it: clamped, the budget keeping its 1/8', request(32_000, 4_000), 4096, 512],
    ['past it, thinking off: still off', request(32_000, 0), 4096, 0],
    ['past it, no budget', request(32_000), 4096, undefined],
  ])('%s', (_, asked, max, budget) => {
    const clamped = withinContext(asked, 4096)
    expect(clamped.max_tokens).toBe(max)
    expect(clamped.reasoning_budget).toBe(budget)
  })

  it('leaves the answer what the context has after the prompt', () => {
    expect(outputRoom(32_000, 4096, 96)).toBe(4000)
    expect(outputRoom(256, 4096, 96)).toBe(256)
    expect(outputRoom(256, 4096, 4096)).toBe(0)
  })
})

describe('an answer that went on after its reasoning', () => {
  it('is one answer: the first prompt, both outputs', () => {
    const base: FoldedAnswer = { ...emptyAnswer(), stopType: 'eos' }
    const first = { ...base, reasoning: 'hmm', stopType: 'budget', promptTokens: 40, cachedTokens: 8 }
    const left = { ...first, generatedTokens: 21, reasoningTokens: 20, firstOutputAt: 5 }
    const rest = { ...base, text: 'yes', stopType: 'limit', promptTokens: 63, generatedTokens: 30 }
    expect(continuedAnswer(left, { ...rest, decodeRate: 90, firstOutputAt: 9 })).toEqual({
      ...rest,
      reasoning: 'hmm',
      promptTokens: 40,
      cachedTokens: 8,
      generatedTokens: 51,
      reasoningTokens: 20,
      decodeRate: 90,
      firstOutputAt: 5,
    })
  })
})
