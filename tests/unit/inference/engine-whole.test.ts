/**
 * A generation nobody reads as it comes (no onEvent) is asked of llama-server whole
 * (whole-answer.ts): the same result as the streamed one, on a connection kept for the next request,
 * where each streamed answer's connection is closed by llama-server (engine-http.ts).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EngineModel } from '../../../host/inference/engine/engine-model.ts'
import type { GenerateRequest, GenerateResult } from '../../../host/inference/generate.ts'
import { type ModelsFixture, modelsFixture } from './inference-fixtures.ts'

let models: ModelsFixture
let model: EngineModel

beforeAll(async () => {
  models = await modelsFixture()
  model = await models.manager.load('tiny')
})
afterAll(async () => {
  await models?.close()
})

const greedy = { max_tokens: 12, temperature: 0, seed: 7 }
const ask = [{ role: 'user' as const, content: 'Where is the weather nice?' }]
const weather = {
  name: 'weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}

/** What a caller reads of a result (its timings and cache aside, which differ run to run). */
const read = (r: GenerateResult) => ({
  text: r.text,
  reasoning: r.reasoning,
  json: r.json,
  tool_calls: r.tool_calls,
  stop_reason: r.stop_reason,
  prompt_tokens: r.prompt_tokens,
  generated_tokens: r.generated_tokens,
  reasoning_tokens: r.reasoning_tokens,
})

/** New client sockets (connections to llama-server) opened while `run` runs. */
async function connections(run: () => Promise<unknown>): Promise<number> {
  let opened = 0
  const count = () => {
    opened += 1
  }
  subscribe('net.client.socket', count)
  try {
    await run()
  } finally {
    unsubscribe('net.client.socket', count)
  }
  return opened
}

describe('answers asked for whole', { timeout: 60_000 }, () => {
  // The generated model writes random bytes, and a stream drops a last character its bytes leave
  // incomplete (whole-answer.ts): the cases' outputs are text (a grammar, a schema, calls).
  const letters = 'root ::= [a-z ]+'
  const cases: [string, GenerateRequest][] = [
    ['a raw prompt (/completion)', { ...greedy, prompt: 'Once upon a time', grammar: letters }],
    ['chat, one token', { ...greedy, max_tokens: 1, messages: ask, grammar: letters }],
    ['a JSON schema', { ...greedy, max_tokens: 24, messages: ask, json_schema: weather.parameters }],
    [
      'a forced call',
      { ...greedy, max_tokens: 24, messages: ask, tools: [weather], tool_choice: { name: 'weather' } },
    ],
    ['calls of its own choosing (the chat endpoint)', { ...greedy, messages: ask, tools: [weather] }],
    ['the chat endpoint, one token', { ...greedy, max_tokens: 1, messages: ask, tools: [weather] }],
  ]
  it.each(cases)('give what a stream gives: %s', async (_, request) => {
    let streamed = ''
    const stream = await model.generate(request, {
      onEvent: (event) => {
        if (event.type !== 'tool-call') streamed += event.text
      },
    })
    const whole = await model.generate(request)
    expect(read(whole)).toEqual(read(stream))
    expect(streamed).toBe(stream.text)
    expect(whole.text.length + whole.tool_calls.length).toBeGreaterThan(0)
    expect(whole.time_to_first_token_ms).toBeLessThanOrEqual(whole.total_ms)
  })

  it('keep their connection for the next request; a streamed one opens one each', async () => {
    const request = { ...greedy, max_tokens: 2, messages: ask }
    // The first may open the connection the rest are put on.
    const whole = await connections(async () => {
      for (let i = 0; i < 6; i++) await model.generate(request)
    })
    expect(whole).toBeLessThanOrEqual(1)
    const streamed = await connections(async () => {
      for (let i = 0; i < 6; i++) await model.generate(request, { onEvent: () => {} })
    })
    // The first may go on the connection the whole ones left open; llama-server closes it after.
    expect(streamed).toBeGreaterThanOrEqual(5)
  })
})
