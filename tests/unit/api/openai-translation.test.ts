/** The endpoint's pure translations: requests into task inputs, outputs into each API's answers and events. */
import { describe, expect, it } from 'vitest'
import {
  anthropicMessage,
  MessagesRequestSchema,
  messagesCall,
} from '../../../host/api/openai/anthropic-messages.ts'
import {
  ChatChunks,
  ChatCompletionRequestSchema,
  chatCompletion,
  chatCompletionCall,
} from '../../../host/api/openai/chat-completions.ts'
import { invalidRequest } from '../../../host/api/openai/endpoint-error.ts'
import { ResponseStore } from '../../../host/api/openai/response-store.ts'
import { ResponseRequestSchema, response, responseCall } from '../../../host/api/openai/responses.ts'
import { responseStream } from '../../../host/api/openai/responses-stream.ts'
import { MAX_KEEP_ALIVE_MS } from '../../../host/inference/keep-alive.ts'
import type { PeerEntry } from '../../../host/interface/live-peers.ts'
import { peerModels } from '../../../host/requests/peer-models.ts'
import { CAPABILITY, generateOutput } from './fixtures.ts'

const id = { task: 'uhCkkTASKHASH0123456789abcdef', model: 'tiny', created: 1 }

const output = generateOutput

describe('chat completions', () => {
  const call = (body: Record<string, unknown>) =>
    chatCompletionCall(ChatCompletionRequestSchema.parse({ model: 'tiny', ...body }))

  it.each([
    [
      'system, developer and text parts',
      {
        messages: [
          {
            role: 'developer',
            content: [
              { type: 'text', text: 'a' },
              { type: 'text', text: 'b' },
            ],
          },
          { role: 'user', content: 'q' },
        ],
      },
      {
        messages: [
          { role: 'system', content: 'ab' },
          { role: 'user', content: 'q' },
        ],
      },
    ],
    [
      'max_completion_tokens wins over max_tokens',
      { messages: [{ role: 'user', content: 'q' }], max_tokens: 5, max_completion_tokens: 7 },
      { max_tokens: 7 },
    ],
    [
      'a stop string becomes a list',
      { messages: [{ role: 'user', content: 'q' }], stop: 'END' },
      { stop: ['END'] },
    ],
    [
      'json_object asks for any object',
      { messages: [{ role: 'user', content: 'q' }], response_format: { type: 'json_object' } },
      { json_schema: { type: 'object', additionalProperties: true } },
    ],
    [
      'a named tool choice and the tools',
      {
        messages: [{ role: 'user', content: 'q' }],
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
        tool_choice: { type: 'function', function: { name: 'f' } },
      },
      { tools: [{ name: 'f', parameters: { type: 'object' } }], tool_choice: { name: 'f' } },
    ],
    [
      'assistant calls and tool results',
      {
        messages: [
          { role: 'user', content: 'q' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 'c', content: 'r' },
        ],
      },
      {
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: '', tool_calls: [{ id: 'c', name: 'f', arguments: '{}' }] },
          { role: 'tool', content: 'r', tool_call_id: 'c' },
        ],
      },
    ],
  ])('%s', (_, body, expected) => {
    expect(call(body).input).toMatchObject(expected)
  })

  it('defaults like OpenAI (temperature 1) and reads the fan-out extension', () => {
    const c = call({ messages: [{ role: 'user', content: 'q' }], ripple: { fan_out: 3 } })
    expect(c.input).toEqual({ messages: [{ role: 'user', content: 'q' }], max_tokens: 2048, temperature: 1 })
    expect(c.fanOut).toBe(3)
  })

  it.each([
    [{ messages: [] }, 'messages'],
    [{ messages: [{ role: 'user', content: 'q' }], n: 2 }, 'n'],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }, 'messages[0].content[0].image_url'],
    [{ messages: [{ role: 'user', content: [{ type: 'input_audio' }] }] }, 'messages[0].content[0].type'],
    [{ messages: [{ role: 'user', content: 'q' }], top_p: 0 }, 'top_p'],
    [{ messages: [{ role: 'user', content: 'q' }], ripple: { fan_out: 17 } }, 'ripple.fan_out'],
  ])('refuses %j naming %s', (body, param) => {
    const parsed = ChatCompletionRequestSchema.safeParse({ model: 'tiny', ...body })
    expect(parsed.success).toBe(false)
    if (!parsed.success) expect(invalidRequest(parsed.error).param).toBe(param)
  })

  it('answers a completion, with tool calls and no content for a forced call', () => {
    const forced = output({
      text: '{"a":1}',
      tool_calls: [{ name: 'f', arguments: '{"a":1}' }],
      stop_reason: 'tool_calls',
      params: { ...output().params, constraint: 'tool_call' },
    })
    const body = chatCompletion(id, forced)
    expect(body.choices[0]?.message).toMatchObject({
      content: null,
      tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
    })
    expect(body.choices[0]?.finish_reason).toBe('tool_calls')
    expect(body.usage).toEqual({
      prompt_tokens: 5,
      completion_tokens: 2,
      total_tokens: 7,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    })
    expect(chatCompletion(id, output({ stop_reason: 'max_tokens' })).choices[0]?.finish_reason).toBe('length')
    // The prompt's tokens the runner's cache held, as llama-server reports them.
    const cached = output({ timings: { ...output().timings, cached_tokens: 4 } })
    expect(chatCompletion(id, cached).usage.prompt_tokens_details).toEqual({ cached_tokens: 4 })
  })

  it("streams a named call's arguments as deltas, then the finish and the usage", () => {
    const input = {
      messages: [{ role: 'user' as const, content: 'q' }],
      tools: [{ name: 'f' }],
      tool_choice: { name: 'f' },
    }
    const chunks = new ChatChunks(id, input, true)
    const start = chunks.start()
    expect(start.choices[0]?.delta).toMatchObject({
      tool_calls: [{ index: 0, function: { name: 'f', arguments: '' } }],
    })
    expect(chunks.token('{"a"')[0]?.choices[0]?.delta).toEqual({
      tool_calls: [{ index: 0, function: { arguments: '{"a"' } }],
    })
    const end = chunks.finish(
      output({
        tool_calls: [{ name: 'f', arguments: '{"a":1}' }],
        params: { ...output().params, constraint: 'tool_call' },
      }),
    )
    expect(end.map((c) => c.choices[0]?.finish_reason ?? 'usage')).toEqual(['tool_calls', 'usage'])
    expect(end[1]?.usage).toEqual({
      prompt_tokens: 5,
      completion_tokens: 2,
      total_tokens: 7,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    })
  })

  it('buffers a forced choice among several tools and sends the call whole at the end', () => {
    const input = {
      messages: [{ role: 'user' as const, content: 'q' }],
      tools: [{ name: 'f' }, { name: 'g' }],
      tool_choice: 'required' as const,
    }
    const chunks = new ChatChunks(id, input, false)
    expect(chunks.token('{"name":')).toEqual([])
    const end = chunks.finish(output({ tool_calls: [{ name: 'g', arguments: '{}' }] }))
    expect(end[0]?.choices[0]?.delta).toMatchObject({
      tool_calls: [{ index: 0, function: { name: 'g', arguments: '{}' } }],
    })
  })
})

describe('responses', () => {
  it('turns input items into messages: instructions, calls and their outputs', () => {
    const call = responseCall(
      ResponseRequestSchema.parse({
        model: 'tiny',
        instructions: 'be brief',
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'q' }] },
          { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c', output: 'r' },
        ],
        tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }],
        tool_choice: { type: 'function', name: 'f' },
        text: { format: { type: 'json_schema', name: 'x', schema: { type: 'object' } } },
      }),
    )
    expect(call.input).toMatchObject({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'q' },
        { role: 'assistant', content: '', tool_calls: [{ id: 'c', name: 'f', arguments: '{}' }] },
        { role: 'tool', content: 'r', tool_call_id: 'c' },
      ],
      tool_choice: { name: 'f' },
      json_schema: { type: 'object' },
    })
  })

  it('continues a previous response: its conversation and answer first, its instructions not carried', () => {
    const store = new ResponseStore()
    const first = responseCall(
      ResponseRequestSchema.parse({ model: 'tiny', input: 'plan a trip', instructions: 'Be brief.' }),
    )
    expect(first.input.messages?.[0]).toEqual({ role: 'system', content: 'Be brief.' })
    const task = { task: 'uhCkkFIRSTTASK0123456789', model: 'tiny', created: 1 }
    store.remember(task, first.history, output({ text: 'Where to?' }))
    const id = response(task, output({ text: 'Where to?' })).id
    const next = ResponseRequestSchema.parse({ model: 'tiny', input: 'Lisbon', previous_response_id: id })
    const call = responseCall(next, store.conversation(next.previous_response_id, next.model))
    expect(call.input.messages).toEqual([
      { role: 'user', content: 'plan a trip' },
      { role: 'assistant', content: 'Where to?' },
      { role: 'user', content: 'Lisbon' },
    ])
    expect(() => store.conversation('resp_unknown', 'tiny')).toThrow(/is not kept on this peer/)
    expect(() => store.conversation(id, 'other')).toThrow(/answered by model "tiny", not "other"/)
    expect(() => store.conversation(id, 'tiny', Date.now() + 2 * 3_600_000)).toThrow(/not kept/)
  })

  it("keeps a response's function calls under the call ids its output items gave", () => {
    const store = new ResponseStore()
    const task = { task: 'uhCkkCALLTASK0123456789', model: 'tiny', created: 1 }
    const out = output({ text: '', tool_calls: [{ name: 'weather', arguments: '{"city":"Lisbon"}' }] })
    store.remember(task, [{ role: 'user', content: 'weather?' }], out)
    const item = response(task, out).output.find((o) => o.type === 'function_call')
    const kept = store.conversation(response(task, out).id, 'tiny')
    expect(kept.at(-1)?.tool_calls).toEqual([
      { id: (item as { call_id: string }).call_id, name: 'weather', arguments: '{"city":"Lisbon"}' },
    ])
  })

  it('streams typed events with sequence numbers, closing what it opened', () => {
    const stream = responseStream(id, { messages: [{ role: 'user', content: 'q' }] }, () => ({}))
    const events = [
      ...stream.start(),
      ...stream.render({ type: 'token', text: 'hel' }),
      ...stream.render({ type: 'token', text: 'lo' }),
      ...stream.render({ type: 'done', output: output() }),
    ]
    expect(events.map((e) => e.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ])
    expect(events.map((e) => (e.data as { sequence_number: number }).sequence_number)).toEqual([
      ...events.keys(),
    ])
  })
})

describe('anthropic messages', () => {
  it('turns blocks into messages and tool_choice any into required', () => {
    const call = messagesCall(
      MessagesRequestSchema.parse({
        model: 'tiny',
        max_tokens: 9,
        system: 'sys',
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: { a: 1 } }] },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'r' }] }],
          },
        ],
        tools: [{ name: 'f', input_schema: { type: 'object' } }],
        tool_choice: { type: 'any' },
        stop_sequences: ['X'],
      }),
    )
    expect(call.input).toMatchObject({
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'q' },
        { role: 'assistant', content: '', tool_calls: [{ id: 't', name: 'f', arguments: '{"a":1}' }] },
        { role: 'tool', content: 'r', tool_call_id: 't' },
      ],
      tool_choice: 'required',
      stop: ['X'],
      max_tokens: 9,
    })
  })

  it.each([
    [output({ stop_reason: 'max_tokens' }), [], 'max_tokens'],
    [output({ stop_reason: 'stop_trigger' }), ['X'], 'stop_sequence'],
    [output({ stop_reason: 'eos' }), [], 'end_turn'],
    [output({ tool_calls: [{ name: 'f', arguments: '{}' }], stop_reason: 'tool_calls' }), [], 'tool_use'],
  ])('maps the stop reason (%#)', (o, stop, expected) => {
    const message = anthropicMessage(id, { messages: [{ role: 'user', content: 'q' }], stop }, o)
    expect(message.stop_reason).toBe(expected)
  })
})

describe('mesh models', () => {
  const peer = (
    agent: string,
    status: PeerEntry['status'],
    models: { name: string; loaded: boolean; file_hash?: string }[],
    queue = 0,
  ): PeerEntry => ({
    agent,
    self: false,
    status,
    name: agent,
    capability: {
      ...CAPABILITY,
      inference: {
        tokens_per_second: null,
        models: models.map((m) => ({
          name: m.name,
          file_hash: m.file_hash ?? 'a'.repeat(64),
          size_bytes: 10,
          parameters: 5,
          quantisation: 'F32',
          context_length: 4096,
          architecture: 'llama',
          loaded: m.loaded,
        })),
      },
    },
    load: {
      cpu_pct: 0,
      ram_pct: 0,
      gpu_pct: null,
      queue_depth: queue,
      timestamp: 0,
    } as unknown as PeerEntry['load'],
    last_heartbeat_ms_ago: 0,
  })

  it('lists one entry per name, with the peers that have it, have it loaded or are busy; offline peers serve nothing', () => {
    const models = peerModels([
      peer('A', 'online', [{ name: 'tiny', loaded: true }]),
      peer(
        'B',
        'stale',
        [
          { name: 'tiny', loaded: false, file_hash: 'b'.repeat(64) },
          { name: 'big', loaded: false },
        ],
        2,
      ),
      peer('C', 'offline', [{ name: 'gone', loaded: true }]),
    ])
    expect(models.map((m) => [m.name, m.peers, m.loaded_on, m.busy, m.file_hashes.length])).toEqual([
      ['big', ['B'], [], ['B'], 1],
      ['tiny', ['A', 'B'], ['A'], ['B'], 2],
    ])
  })

  it('counts free slots, not "busy or not", where a peer reports them', () => {
    const withSlots = (agent: string, queue: number, slotsFree: number) => {
      const entry = peer(agent, 'online', [{ name: 'tiny', loaded: true }], queue)
      return { ...entry, load: { ...entry.load!, slots_free: slotsFree } }
    }
    // A runs 3 requests with a slot to spare; B runs 4 with none; C reports no slots (an older peer).
    const [tiny] = peerModels([
      withSlots('A', 3, 1),
      withSlots('B', 4, 0),
      peer('C', 'online', [{ name: 'tiny', loaded: true }], 1),
    ])
    expect(tiny?.busy).toEqual(['B', 'C'])
  })
})

describe("keep_alive (Ollama's) on every /v1 API", () => {
  const messages = [{ role: 'user' as const, content: 'hi' }]
  it('travels to the runner as keep_alive_ms: seconds, durations, 0 and -1 (never)', () => {
    const chat = (keep_alive: unknown) =>
      chatCompletionCall(ChatCompletionRequestSchema.parse({ model: 'tiny', messages, keep_alive })).input
    expect(chat('10m').keep_alive_ms).toBe(600_000)
    expect(chat(30).keep_alive_ms).toBe(30_000)
    expect(chat(0).keep_alive_ms).toBe(0)
    expect(chat(-1).keep_alive_ms).toBe(-1)
    // A number too large to count in ms is the longest keep-alive, not "forever".
    expect(chat(1e306).keep_alive_ms).toBe(MAX_KEEP_ALIVE_MS)
    expect(chat(undefined).keep_alive_ms).toBeUndefined()
    const anthropic = messagesCall(
      MessagesRequestSchema.parse({ model: 'tiny', max_tokens: 8, messages, keep_alive: '1h' }),
    )
    expect(anthropic.input.keep_alive_ms).toBe(3_600_000)
    const response = responseCall(
      ResponseRequestSchema.parse({ model: 'tiny', input: 'hi', keep_alive: '5s' }),
    )
    expect(response.input.keep_alive_ms).toBe(5_000)
  })

  it('refuses one it cannot read, saying what it takes', () => {
    const parsed = ChatCompletionRequestSchema.safeParse({ model: 'tiny', messages, keep_alive: 'a while' })
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues[0]?.message).toMatch(/keep_alive: "a while" is no duration/)
  })
})
