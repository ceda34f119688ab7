/**
 * Tool calls streamed as the model writes them (the `tool-call` run event), in each API's own shape:
 * a call opens with its id and name on its first piece and its arguments follow in pieces; the end
 * sends only the calls that did not come in pieces. What a client puts together from the stream is
 * the answer's calls, each once, in order.
 */
import { describe, expect, it } from 'vitest'
import { messagesStream } from '../../../host/api/openai/anthropic-messages.ts'
import { chatStream } from '../../../host/api/openai/chat-completions.ts'
import type { GenerateOutput } from '../../../host/api/openai/generation.ts'
import { ResponseRequestSchema, response, responseCall } from '../../../host/api/openai/responses.ts'
import { responseStream } from '../../../host/api/openai/responses-stream.ts'
import type { SseEvent, StreamRenderer } from '../../../host/api/openai/serve-task.ts'
import type { RunEvent } from '../../../host/interface/run-event.ts'
import { joinPieces } from '../../../host/workers/infer-generate.ts'
import { generateOutput } from './fixtures.ts'
import { codexFirstRequest, PATCH } from './responses-codex-fixtures.ts'

const id = { task: 'uhCkkTASKHASH0123456789abcdef', model: 'tiny', created: 1 }
const errorBody = () => ({ error: {} })
const LS = '{"cmd":"ls -la"}'
const READ = '{"path":"a.txt"}'
const input = {
  messages: [{ role: 'user' as const, content: 'look around' }],
  max_tokens: 64,
  temperature: 0,
  tools: [
    { name: 'exec_command', parameters: { type: 'object' } },
    { name: 'read_file', parameters: { type: 'object' } },
  ],
}
const output = (calls: { name: string; arguments: string }[]): GenerateOutput =>
  generateOutput({ text: 'Looking.', tool_calls: calls, stop_reason: 'tool_calls' })

/** Text, then the first call in three pieces; the second call is in the output only. */
const RUN: RunEvent[] = [
  { type: 'token', text: 'Looking.' },
  { type: 'tool-call', index: 0, name: 'exec_command', arguments: '' },
  { type: 'tool-call', index: 0, name: 'exec_command', arguments: '{"cmd":' },
  { type: 'tool-call', index: 0, name: 'exec_command', arguments: '"ls -la"}' },
]

function play(stream: StreamRenderer, events: RunEvent[], end: GenerateOutput) {
  const during = [...stream.start(), ...events.flatMap((e) => stream.render(e))]
  return { during, end: stream.render({ type: 'done', output: end }) }
}

const data = (events: SseEvent[]) => events.map((e) => e.data as Record<string, unknown>)

describe('a chat completion stream', () => {
  type Delta = { index: number; id?: string; function: { name?: string; arguments: string } }
  const callsOf = (events: SseEvent[]) =>
    data(events).flatMap(
      (c) =>
        ((c.choices as { delta: { tool_calls?: Delta[] } }[] | undefined)?.[0]?.delta.tool_calls ??
          []) as Delta[],
    )
  /** The calls as the OpenAI SDK puts them together: by index, the first piece naming each. */
  const assembled = (deltas: Delta[]) => {
    const calls: { id: string; name: string; arguments: string }[] = []
    for (const d of deltas) {
      const call = calls[d.index]
      if (call === undefined)
        calls[d.index] = { id: d.id ?? '', name: d.function.name ?? '', arguments: d.function.arguments }
      else call.arguments += d.function.arguments
    }
    return calls
  }

  it('opens a call on its first piece, sends its arguments as they come, and only the rest at the end', () => {
    const { during, end } = play(
      chatStream(id, input, false, errorBody),
      RUN,
      output([
        { name: 'exec_command', arguments: LS },
        { name: 'read_file', arguments: READ },
      ]),
    )
    const streamed = callsOf(during)
    expect(streamed[0]).toEqual({
      index: 0,
      id: 'call_HASH0123456789abcdef0',
      type: 'function',
      function: { name: 'exec_command', arguments: '' },
    })
    expect(streamed.slice(1)).toEqual([
      { index: 0, function: { arguments: '{"cmd":' } },
      { index: 0, function: { arguments: '"ls -la"}' } },
    ])
    expect(callsOf(end).map((d) => d.index)).toEqual([1])
    expect(assembled([...streamed, ...callsOf(end)])).toEqual([
      { id: 'call_HASH0123456789abcdef0', name: 'exec_command', arguments: LS },
      { id: 'call_HASH0123456789abcdef1', name: 'read_file', arguments: READ },
    ])
    expect(data(end).at(-2)).toMatchObject({ choices: [{ finish_reason: 'tool_calls' }] })
  })

  it('a forced call streams as its arguments alone: no piece opens a second call', () => {
    const forced = { ...input, tool_choice: { name: 'exec_command' } }
    const stream = chatStream(id, forced, false, errorBody)
    expect(stream.render({ type: 'tool-call', index: 0, name: 'exec_command', arguments: LS })).toEqual([])
  })
})

describe('an Anthropic message stream', () => {
  /** The blocks as the Anthropic SDK puts them together from the events. */
  const blocks = (events: SseEvent[]) => {
    const built: Record<string, unknown>[] = []
    const json: string[] = []
    for (const e of data(events)) {
      const i = e.index as number
      if (e.type === 'content_block_start') {
        expect(built[i]).toBeUndefined()
        built[i] = { ...(e.content_block as object) }
        json[i] = ''
      }
      const delta = e.delta as { type: string; text?: string; partial_json?: string } | undefined
      if (e.type === 'content_block_delta' && delta?.type === 'text_delta')
        built[i] = { ...built[i], text: `${built[i]?.text}${delta.text}` }
      if (e.type === 'content_block_delta' && delta?.type === 'input_json_delta')
        json[i] = `${json[i]}${delta.partial_json}`
      if (e.type === 'content_block_stop' && built[i]?.type === 'tool_use')
        built[i] = { ...built[i], input: JSON.parse(json[i] ?? '') }
    }
    return built
  }

  it('opens a tool_use block on its first piece, its input in pieces; the rest whole at the end', () => {
    const { during, end } = play(
      messagesStream(id, input, errorBody),
      RUN,
      output([
        { name: 'exec_command', arguments: LS },
        { name: 'read_file', arguments: READ },
      ]),
    )
    expect(
      data(during)
        .filter((e) => e.type === 'content_block_start')
        .map((e) => e.content_block),
    ).toEqual([
      { type: 'text', text: '' },
      { type: 'tool_use', id: 'toolu_HASH0123456789abcdef0', name: 'exec_command', input: {} },
    ])
    expect(blocks([...during, ...end])).toEqual([
      { type: 'text', text: 'Looking.' },
      {
        type: 'tool_use',
        id: 'toolu_HASH0123456789abcdef0',
        name: 'exec_command',
        input: { cmd: 'ls -la' },
      },
      {
        type: 'tool_use',
        id: 'toolu_HASH0123456789abcdef1',
        name: 'read_file',
        input: { path: 'a.txt' },
      },
    ])
    expect(data(end).find((e) => e.type === 'message_delta')).toMatchObject({
      delta: { stop_reason: 'tool_use' },
    })
  })
})

describe('a Responses stream, as Codex reads it', () => {
  const first = responseCall(ResponseRequestSchema.parse(codexFirstRequest()))
  const stream = () => responseStream(id, first.input, errorBody, first.tools)
  const calls = [
    { name: 'exec_command', arguments: LS },
    { name: 'apply_patch', arguments: JSON.stringify({ input: PATCH }) },
  ]

  it('adds a call as its first piece comes: a function’s arguments, a custom tool’s input as it is read', () => {
    const patchPiece: RunEvent = {
      type: 'tool-call',
      index: 1,
      name: 'apply_patch',
      arguments: '{"input":"*** Be',
    }
    const { during, end } = play(stream(), [...RUN, patchPiece], output(calls))
    const types = data(during).map((e) => e.type)
    expect(types.filter((t) => t === 'response.function_call_arguments.delta')).toHaveLength(2)
    const input = (events: SseEvent[]) =>
      data(events)
        .filter((e) => e.type === 'response.custom_tool_call_input.delta')
        .map((e) => e.delta)
        .join('')
    expect(input(during)).toBe('*** Be')
    expect(input([...during, ...end])).toBe(PATCH)
    const all = data([...during, ...end])
    const added = all
      .filter((e) => e.type === 'response.output_item.added')
      .map((e) => (e.item as { id: string }).id)
    expect(new Set(added).size).toBe(added.length)
    const done = all.filter((e) => e.type === 'response.output_item.done').map((e) => e.item)
    const completed = all.at(-1) as { type: string; response: ReturnType<typeof response> }
    expect(completed.type).toBe('response.completed')
    expect(completed.response.output).toEqual(done)
    expect(done).toEqual(response(id, output(calls), first.tools).output)
    const args = all
      .filter((e) => e.type === 'response.function_call_arguments.delta')
      .map((e) => e.delta)
      .join('')
    expect(args).toBe(LS)
  })
})

describe('pieces joined before they are sent', () => {
  const call = (index: number, args: string): RunEvent & { type: 'tool-call' } => ({
    type: 'tool-call',
    index,
    name: 'f',
    arguments: args,
  })
  it.each([
    [
      'text and text',
      { type: 'token', text: 'a' },
      { type: 'token', text: 'b' },
      { type: 'token', text: 'ab' },
    ],
    ['reasoning and text', { type: 'reasoning', text: 'a' }, { type: 'token', text: 'b' }, null],
    ['a call’s pieces', call(0, '{"a"'), call(0, ':1}'), call(0, '{"a":1}')],
    ['two calls', call(0, '{}'), call(1, '{'), null],
    ['text and a call', { type: 'token', text: 'a' }, call(0, '{'), null],
  ] as const)('%s', (_, a, b, joined) => {
    expect(joinPieces(a, b)).toEqual(joined)
  })
})
