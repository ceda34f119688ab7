/**
 * Codex's requests to `/v1/responses` as the model gets them (its tools as functions, its items as
 * messages, what is left out named), and its calls as Codex reads them back: a `function_call` with
 * the `namespace` its tool came from, a `custom_tool_call` with its input as text.
 */
import { describe, expect, it } from 'vitest'
import type { GenerateOutput } from '../../../host/api/openai/generation.ts'
import { ResponseRequestSchema, response, responseCall } from '../../../host/api/openai/responses.ts'
import { responseStream } from '../../../host/api/openai/responses-stream.ts'
import { generateOutput } from './fixtures.ts'
import { codexFirstRequest, codexSecondRequest, PATCH } from './responses-codex-fixtures.ts'

const call = (body: Record<string, unknown>) => responseCall(ResponseRequestSchema.parse(body))
const id = { task: 'uhCkkTASKHASH0123456789abcdef', model: 'tiny', created: 1 }
const fn = (props: Record<string, unknown>) => ({
  type: 'object',
  properties: props,
  required: Object.keys(props),
  additionalProperties: false,
})
const SYSTEM = { role: 'system', content: 'You are a coding agent.\n\n<skills/>' }
const USERS = [
  { role: 'user', content: '<environment_context><cwd>/w</cwd></environment_context>' },
  { role: 'user', content: 'read a.txt' },
]
const NOTES = [
  'tool web_search: built in, no peer runs it',
  'tool apply_patch: its lark grammar is not applied',
  'reasoning.summary: no summary is written (the reasoning is given as reasoning_text)',
  'include reasoning.encrypted_content',
]

describe("Codex's first request", () => {
  it('offers its functions, the namespace’s as they are, apply_patch as one text input; web_search left out', () => {
    const first = call(codexFirstRequest())
    expect(first.input).toEqual({
      messages: [SYSTEM, ...USERS],
      // Codex sends no max_output_tokens: what the model can give, the runner clamping to its context.
      max_tokens: 32768,
      temperature: 1,
      tools: [
        {
          name: 'exec_command',
          description: 'Runs a command in a shell.',
          parameters: fn({ cmd: expect.anything() }),
        },
        {
          name: 'view_image',
          description: 'Shows an image file.',
          parameters: fn({ path: { type: 'string' } }),
        },
        {
          name: 'spawn_agent',
          description: 'Starts a sub-agent.',
          parameters: fn({ message: { type: 'string' } }),
        },
        {
          name: 'close_agent',
          description: 'Closes a sub-agent.',
          parameters: fn({ target: { type: 'string' } }),
        },
        {
          name: 'apply_patch',
          description: 'Edits files with a patch.',
          parameters: fn({ input: { type: 'string', description: 'The whole input, as text' } }),
        },
      ],
      tool_choice: 'auto',
    })
    expect(first.ignored).toEqual(NOTES)
    expect(first).toMatchObject({ stream: true, store: false })
  })

  it('keeps reasoning.effort as the budget it is, beside the summary it notes', () => {
    const first = call(
      codexFirstRequest({ reasoning: { effort: 'high', summary: 'auto' }, max_output_tokens: 800 }),
    )
    expect(first.input.reasoning_budget).toBe(400)
  })
})

describe("Codex's second request", () => {
  it('gives back the calls under their tools’ names and the results as tool messages; reasoning dropped', () => {
    const second = call(codexSecondRequest())
    expect(second.input.messages).toEqual([
      SYSTEM,
      ...USERS,
      {
        role: 'assistant',
        content: "I'll look.",
        tool_calls: [{ id: 'call_1', name: 'exec_command', arguments: '{"cmd":"cat a.txt"}' }],
      },
      { role: 'tool', content: 'hello', tool_call_id: 'call_1' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_2', name: 'close_agent', arguments: '{"target":"a1"}' }],
      },
      { role: 'tool', content: 'closed', tool_call_id: 'call_2' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_3', name: 'apply_patch', arguments: JSON.stringify({ input: PATCH }) }],
      },
      { role: 'tool', content: 'Done!', tool_call_id: 'call_3' },
    ])
    expect(second.ignored).toEqual([
      ...NOTES.slice(0, 2),
      'reasoning items given back: templates render answers only',
      'input item web_search_call',
      ...NOTES.slice(2),
    ])
  })

  it.each([
    [
      'an image in a tool output',
      { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: 'data:x' }] },
      'input_image in tool outputs: only user messages show images',
    ],
    ['an item reference', { type: 'item_reference', id: 'msg_1' }, 'input item item_reference'],
    [
      'a file part',
      {
        role: 'user',
        content: [
          { type: 'input_file', file_id: 'f' },
          { type: 'input_text', text: 'q' },
        ],
      },
      'content part input_file in user messages',
    ],
  ])('leaves out %s, with a note', (_, item, noted) => {
    const body = { model: 'tiny', input: [{ role: 'user', content: 'q' }, item] }
    expect(call(body).ignored).toEqual([noted])
  })

  it('refuses a call it cannot read, naming the field', () => {
    const parsed = ResponseRequestSchema.safeParse({
      model: 'tiny',
      input: [{ type: 'function_call', call_id: 'c', arguments: '{}' }],
    })
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['input', 0, 'name'] })
  })
})

describe('tools', () => {
  it.each([
    [
      'a regex grammar becomes an anchored pattern on the input',
      [{ type: 'custom', name: 'n', format: { type: 'grammar', syntax: 'regex', definition: '[0-9]+' } }],
      [
        {
          name: 'n',
          parameters: fn({
            input: { type: 'string', description: expect.any(String), pattern: '^(?:[0-9]+)$' },
          }),
        },
      ],
    ],
    [
      'a namespace’s tool named like another is offered qualified by its namespace',
      [
        { type: 'function', name: 'read' },
        { type: 'namespace', name: 'mcp__fs__', tools: [{ type: 'function', name: 'read' }] },
      ],
      [{ name: 'read' }, { name: 'mcp__fs__read' }],
    ],
  ])('%s', (_, tools, offered) => {
    expect(call({ model: 'tiny', input: 'q', tools }).input.tools).toEqual(offered)
  })

  it.each([
    ['a custom tool by name', { type: 'custom', name: 'apply_patch' }, { name: 'apply_patch' }],
    ['a namespaced function', { type: 'function', name: 'close_agent' }, { name: 'close_agent' }],
    [
      'allowed tools, their mode',
      { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'exec_command' }] },
      'required',
    ],
    ['a built-in tool, as auto', { type: 'web_search_preview' }, 'auto'],
  ])('tool_choice: %s', (_, choice, expected) => {
    const chosen = call(codexFirstRequest({ tool_choice: choice })).input
    expect(chosen.tool_choice).toEqual(expected)
    if (choice.type === 'allowed_tools') expect(chosen.tools?.map((t) => t.name)).toEqual(['exec_command'])
  })
})

describe("the model's calls, as Codex reads them", () => {
  const first = call(codexFirstRequest())
  const answer = (calls: { name: string; arguments: string }[], over: Partial<GenerateOutput> = {}) =>
    generateOutput({ text: '', tool_calls: calls, stop_reason: 'tool_calls', ...over })
  const streamed = (output: GenerateOutput, text = '') => {
    const stream = responseStream(id, first.input, () => ({ error: {} }), first.tools)
    const events = [
      ...stream.start(),
      ...stream.render({ type: 'reasoning', text: output.reasoning }),
      ...stream.render({ type: 'token', text }),
      ...stream.render({ type: 'done', output }),
    ]
    return events.map(
      (e) => e.data as { type: string; item?: Record<string, unknown> } & Record<string, unknown>,
    )
  }
  const done = (events: ReturnType<typeof streamed>) =>
    events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item)

  it('a function call: its arguments streamed whole, then the item with its call id', () => {
    const events = streamed(answer([{ name: 'exec_command', arguments: '{"cmd":"ls"}' }]))
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ])
    expect(done(events)).toEqual([
      {
        type: 'function_call',
        id: 'fc_TASKHASH0123456789abcdef0',
        call_id: 'call_HASH0123456789abcdef0',
        name: 'exec_command',
        arguments: '{"cmd":"ls"}',
        status: 'completed',
      },
    ])
  })

  it('a namespaced call: its own name, and the namespace Codex finds the tool by', () => {
    const events = streamed(answer([{ name: 'close_agent', arguments: '{"target":"a1"}' }]))
    expect(done(events)[0]).toMatchObject({
      type: 'function_call',
      name: 'close_agent',
      namespace: 'multi_agent_v1',
    })
  })

  it('a custom tool call: the input as text, with its input events', () => {
    const events = streamed(answer([{ name: 'apply_patch', arguments: JSON.stringify({ input: PATCH }) }]))
    expect(events.map((e) => e.type).slice(2, -1)).toEqual([
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
    ])
    expect(events[2]?.item).toMatchObject({ type: 'custom_tool_call', input: '', status: 'in_progress' })
    expect(events[3]).toMatchObject({
      delta: PATCH,
      item_id: 'ctc_TASKHASH0123456789abcdef0',
      output_index: 0,
    })
    expect(events[4]).toMatchObject({ input: PATCH })
    expect(done(events)).toEqual([
      {
        type: 'custom_tool_call',
        id: 'ctc_TASKHASH0123456789abcdef0',
        call_id: 'call_HASH0123456789abcdef0',
        name: 'apply_patch',
        input: PATCH,
        status: 'completed',
      },
    ])
  })

  it('reasoning, text and two calls: items in order, the usage Codex counts', () => {
    const base = generateOutput().timings
    const output = answer(
      [
        { name: 'exec_command', arguments: '{"cmd":"ls"}' },
        { name: 'apply_patch', arguments: JSON.stringify({ input: PATCH }) },
      ],
      {
        text: 'Looking.',
        reasoning: 'think',
        timings: {
          ...base,
          prompt_tokens: 900,
          cached_tokens: 800,
          generated_tokens: 30,
          reasoning_tokens: 4,
        },
      },
    )
    const events = streamed(output, 'Looking.')
    const completed = events.at(-1) as unknown as { type: string; response: ReturnType<typeof response> }
    expect(completed.type).toBe('response.completed')
    expect(completed.response.output.map((i) => i.type)).toEqual([
      'reasoning',
      'message',
      'function_call',
      'custom_tool_call',
    ])
    expect(completed.response.output).toEqual(done(events))
    expect(completed.response.usage).toEqual({
      input_tokens: 900,
      input_tokens_details: { cached_tokens: 800 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 4 },
      total_tokens: 930,
    })
    expect(response(id, output, first.tools).output).toEqual(completed.response.output)
  })

  it('a forced custom call streams no JSON as its input: the text comes whole once read', () => {
    const forced = call(codexFirstRequest({ tool_choice: { type: 'custom', name: 'apply_patch' } }))
    const stream = responseStream(id, forced.input, () => ({ error: {} }), forced.tools)
    expect(stream.render({ type: 'token', text: '{"input":"*** Be' })).toEqual([])
    const events = stream.render({
      type: 'done',
      output: answer([{ name: 'apply_patch', arguments: JSON.stringify({ input: PATCH }) }]),
    })
    const delta = events.find((e) => e.event === 'response.custom_tool_call_input.delta')
    expect(delta?.data).toMatchObject({ delta: PATCH })
  })
})
