/**
 * The guard at the edge, for any engine: constrained output that did not complete is never an empty
 * message with `stop`. The engine here is a stand-in that stops early (the mesh answers with outputs
 * as such an engine would sign them); the API server, its routes and the official client are real.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import type { GenerateOutput } from '../../../host/api/openai/generation.ts'
import type { InferenceAnswer, InferenceRequest, RequestsPort } from '../../../host/requests/requests-port.ts'
import { baseInit } from './fixtures.ts'

const weather = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }

/** What an engine that stops early signs: the text so far, and why it stopped. */
function earlyOutput(request: InferenceRequest): GenerateOutput {
  const input = request.input as { json_schema?: unknown; tool_choice?: unknown; max_tokens?: number }
  const constraint =
    input.tool_choice && input.tool_choice !== 'auto'
      ? 'tool_call'
      : input.json_schema
        ? 'json_schema'
        : 'none'
  const cut = (input.max_tokens ?? 0) <= 3
  return {
    text: '{"city": "Os',
    reasoning: '',
    json: null,
    tool_calls: [],
    stop_reason: cut ? 'max_tokens' : 'eos',
    model: { name: 'tiny', file_hash: 'f'.repeat(64), parameters: 1, quantisation: 'F32' },
    params: {
      max_tokens: input.max_tokens ?? 16,
      temperature: 0,
      seed: 1,
      top_p: null,
      constraint,
      context_size: 4096,
      threads: 1,
    },
    timings: {
      load_ms: 0,
      prompt_tokens: 5,
      generated_tokens: 3,
      reasoning_tokens: 0,
      time_to_first_token_ms: 1,
      total_ms: 2,
      tokens_per_second: null,
      cached_tokens: 0,
    },
  }
}

const inference = {
  models: async () => [],
  run: async (request: InferenceRequest): Promise<InferenceAnswer> => {
    request.onEvent?.({ type: 'submitted', task: 'uhCkkTASK' })
    request.onEvent?.({ type: 'assigned', peer: 'uhCAkPEER' })
    request.onEvent?.({ type: 'token', text: '{"city": "Os' })
    return { task: 'uhCkkTASK', peer: 'uhCAkPEER', output: earlyOutput(request) }
  },
} as unknown as RequestsPort

let server: ApiServer
let openai: OpenAI

beforeAll(async () => {
  server = new ApiServer(baseInit({ components: { requests: inference } }))
  await server.start()
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'the-token', maxRetries: 0 })
})
afterAll(async () => {
  await server?.stop()
})

describe('constrained output that did not complete', () => {
  it('ended early without parsing: an error saying so, never an empty message with stop', async () => {
    const schema = openai.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Weather?' }],
      max_tokens: 16,
      response_format: { type: 'json_schema', json_schema: { name: 'w', schema: weather } },
    })
    await expect(schema).rejects.toMatchObject({
      status: 502,
      message: expect.stringMatching(/stopped \(eos\) before its JSON output was complete: .*city/),
    })
    const call = openai.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Weather?' }],
      max_tokens: 16,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: weather } }],
      tool_choice: 'required',
    })
    await expect(call).rejects.toMatchObject({
      status: 502,
      message: expect.stringMatching(/before its tool call was complete/),
    })
  })

  it('streamed: the stream ends with an error event, not a finish with stop', async () => {
    const stream = await openai.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Weather?' }],
      max_tokens: 16,
      stream: true,
      response_format: { type: 'json_schema', json_schema: { name: 'w', schema: weather } },
    })
    const finishes: (string | null)[] = []
    const read = (async () => {
      for await (const chunk of stream) finishes.push(chunk.choices[0]?.finish_reason ?? null)
    })()
    await expect(read).rejects.toThrow(/before its JSON output was complete/)
    expect(finishes).not.toContain('stop')
  })

  it('cut by max_tokens: finish_reason length with the text as produced, and no call', async () => {
    const cut = await openai.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Weather?' }],
      max_tokens: 3,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: weather } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    })
    expect(cut.choices[0]?.finish_reason).toBe('length')
    expect(cut.choices[0]?.message.content).toBe('{"city": "Os')
    expect(cut.choices[0]?.message.tool_calls ?? []).toEqual([])
  })
})
