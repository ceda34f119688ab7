/**
 * Anthropic's door end to end through the official SDK: `POST /v1/messages?beta=true` with the
 * headers Claude Code sends (x-api-key, anthropic-version, anthropic-beta), streamed and not, a tool
 * loop run by the SDK's own tool runner, and `count_tokens`. The mesh's run is a stand-in that
 * scripts the model's output only (its thinking, text or call, and its counts); the API server, its
 * routes and translation, and the client are real.
 */
import Anthropic from '@anthropic-ai/sdk'
import { betaTool } from '@anthropic-ai/sdk/helpers/beta/json-schema'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import type { GenerateInput, GenerateOutput } from '../../../host/api/openai/generation.ts'
import type { InferenceAnswer, InferenceRequest, RequestsPort } from '../../../host/requests/requests-port.ts'
import { claudeCodeRequest } from './anthropic-fixtures.ts'
import { baseInit, generateOutput } from './fixtures.ts'

/** What the stand-in model does next: think, then answer text or call a tool. */
interface Turn {
  reasoning?: string
  text?: string
  call?: { name: string; arguments: string }
}

const script: Turn[] = []
const inputs: GenerateInput[] = []

/** Scripts the model's output, streamed as the mesh streams it (a call comes whole with the output). */
const inference = {
  models: async () => [],
  run: async (request: InferenceRequest): Promise<InferenceAnswer> => {
    const input = request.input as GenerateInput
    inputs.push(input)
    const turn = script.shift() ?? { text: 'ok' }
    request.onEvent?.({ type: 'submitted', task: 'uhCkkTASKHASH0123456789' })
    request.onEvent?.({ type: 'assigned', peer: 'uhCAkPEER' })
    if (turn.reasoning) request.onEvent?.({ type: 'reasoning', text: turn.reasoning })
    if (turn.text) request.onEvent?.({ type: 'token', text: turn.text })
    const base = generateOutput()
    const output: GenerateOutput = generateOutput({
      text: turn.text ?? '',
      reasoning: turn.reasoning ?? '',
      tool_calls: turn.call ? [turn.call] : [],
      stop_reason: turn.call ? 'tool_calls' : 'eos',
      timings: { ...base.timings, prompt_tokens: 1234, cached_tokens: 1000, generated_tokens: 7 },
    })
    return { task: 'uhCkkTASKHASH0123456789', peer: 'uhCAkPEER', output }
  },
} as unknown as RequestsPort

let server: ApiServer
let anthropic: Anthropic

beforeAll(async () => {
  server = new ApiServer(baseInit({ components: { requests: inference } }))
  await server.start()
  // The token as Claude Code sends a key: x-api-key, with its version and beta headers.
  anthropic = new Anthropic({
    baseURL: server.url,
    apiKey: 'the-token',
    maxRetries: 0,
    defaultHeaders: { 'anthropic-beta': 'claude-code-20250219,context-management-2025-06-27' },
  })
})
afterAll(async () => {
  await server?.stop()
})
beforeEach(() => {
  script.length = 0
  inputs.length = 0
})

describe("Claude Code's first request", () => {
  it('is served streamed: omitted thinking signed, the text, usage with the prompt’s tokens, edits applied', async () => {
    script.push({ reasoning: 'the user greets', text: 'Hi.' })
    const body = { ...claudeCodeRequest(), service_tier: 'auto', container: null, top_k: 5 }
    const message = await anthropic.beta.messages.stream(body as never).finalMessage()
    expect(message.content).toEqual([
      { type: 'thinking', thinking: '', signature: 'uhCkkTASKHASH0123456789' },
      { type: 'text', text: 'Hi.' },
    ])
    expect(message.stop_reason).toBe('end_turn')
    expect(message.usage).toMatchObject({
      input_tokens: 234,
      cache_read_input_tokens: 1000,
      output_tokens: 7,
    })
    expect(message.context_management).toEqual({
      applied_edits: [
        { type: 'clear_thinking_20251015', cleared_thinking_turns: 0, cleared_input_tokens: 0 },
      ],
    })
    const input = inputs[0]
    expect(input?.messages?.map((m) => m.role)).toEqual(['system', 'user'])
    expect(input?.tools).toHaveLength(20)
    expect(input).toMatchObject({ max_tokens: 32000, reasoning_budget: 16000 })
  })

  it('is served whole, and the raw stream has the events Claude Code reads, in order', async () => {
    script.push({ reasoning: 'r', text: 'Hi.' }, { reasoning: 'r', text: 'Hi.' })
    // The SDK asks for a stream at Claude Code's max_tokens unless the caller says it will wait.
    const whole = await anthropic.beta.messages.create({ ...claudeCodeRequest(), stream: false } as never, {
      timeout: 60_000,
    })
    expect(whole).toMatchObject({
      type: 'message',
      content: [
        { type: 'thinking', thinking: '' },
        { type: 'text', text: 'Hi.' },
      ],
      usage: { input_tokens: 234, cache_read_input_tokens: 1000 },
      context_management: { applied_edits: [{ type: 'clear_thinking_20251015' }] },
    })
    const raw = await anthropic.beta.messages.create(claudeCodeRequest() as never)
    const events: { type: string; delta?: { type?: string }; usage?: unknown }[] = []
    for await (const event of raw as unknown as AsyncIterable<(typeof events)[number]>) events.push(event)
    expect(events.map((e) => e.delta?.type ?? e.type)).toEqual([
      'message_start',
      'content_block_start',
      'signature_delta',
      'content_block_stop',
      'content_block_start',
      'text_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    expect(events.at(-2)?.usage).toMatchObject({ input_tokens: 234, output_tokens: 7 })
  })
})

describe("Claude Code's URL and headers", () => {
  it('are taken as it sends them: ?beta=true, x-api-key, anthropic-version and anthropic-beta', async () => {
    const headers = {
      'content-type': 'application/json',
      'x-api-key': 'the-token',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14,effort-2025-11-24',
      'x-app': 'cli',
    }
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
    const streamed = await post('/v1/messages?beta=true', claudeCodeRequest())
    expect(streamed.status).toBe(200)
    expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(await streamed.text()).toMatch(/event: message_stop\n/)
    const { max_tokens: _, stream: __, ...body } = claudeCodeRequest()
    const counted = await post('/v1/messages/count_tokens?beta=true', body)
    expect(await counted.json()).toEqual({ input_tokens: 1234 })
  })
})

describe('a tool loop run by the SDK', () => {
  it('gets the call in Anthropic’s dialect, sends the result back, and ends with the answer', async () => {
    script.push(
      { reasoning: 'read it', call: { name: 'read_file', arguments: '{"path":"a.txt"}' } },
      { text: 'It says hello.' },
    )
    const reads: string[] = []
    const readFile = betaTool({
      name: 'read_file',
      description: 'Reads a file of the work directory.',
      inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
      run: ({ path }) => {
        reads.push(path)
        return [{ type: 'text', text: 'hello' }]
      },
    })
    const runner = anthropic.beta.messages.toolRunner({
      model: 'tiny',
      max_tokens: 32000,
      thinking: { type: 'adaptive' },
      messages: [{ role: 'user', content: 'What does a.txt say?' }],
      tools: [readFile],
      stream: true,
      // The runner's default is a message thread: Ripple refuses it with Anthropic's details, and the
      // SDK sends the whole conversation each turn from then on.
    })
    const answer = await runner.runUntilDone()
    expect(reads).toEqual(['a.txt'])
    expect(answer.content.at(-1)).toEqual({ type: 'text', text: 'It says hello.' })
    // The second request: the call as the SDK sent it back (its thinking dropped), then its result.
    const [user, assistant, result] = inputs[1]?.messages ?? []
    expect(user).toEqual({ role: 'user', content: 'What does a.txt say?' })
    expect(assistant).toEqual({
      role: 'assistant',
      content: '',
      tool_calls: [
        { id: expect.stringMatching(/^toolu_/), name: 'read_file', arguments: '{"path":"a.txt"}' },
      ],
    })
    expect(result).toEqual({ role: 'tool', content: 'hello', tool_call_id: assistant?.tool_calls?.[0]?.id })
  })
})

describe('message threads', () => {
  it('are refused (a later turn sends only its new messages), naming the field', async () => {
    const body = { model: 'tiny', max_tokens: 8, messages: [{ role: 'user', content: 'q' }] }
    const refused = anthropic.beta.messages.create({
      ...body,
      thread: { type: 'continue', previous_message_id: 'msg_1' },
    } as never)
    await expect(refused).rejects.toMatchObject({
      status: 400,
      error: {
        error: {
          type: 'invalid_request_error',
          message: expect.stringMatching(/no message threads/),
          details: { error_code: 'thread_unsupported_request', unsupported: ['thread'] },
        },
      },
    })
    expect(inputs).toEqual([])
  })
})

describe('count_tokens', () => {
  it('answers the prompt’s tokens, counted by serving the same request as one greedy token', async () => {
    const { max_tokens: _, stream: __, ...body } = claudeCodeRequest()
    const count = await anthropic.beta.messages.countTokens(body as never)
    expect(count).toEqual({ input_tokens: 1234 })
    expect(inputs[0]).toMatchObject({ max_tokens: 1, temperature: 0 })
    expect(inputs[0]?.messages?.at(-1)?.role).toBe('user')
  })
})
