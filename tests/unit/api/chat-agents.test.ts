/**
 * `/v1/chat/completions` as the coding agents that speak it send it (opencode, Qwen Code, Continue,
 * Aider, Cline/Roo; the texts are these tests' own): long tool descriptions, content part arrays on
 * every role with `cache_control`, `name`, `reasoning_content` given back, and the fields OpenAI's API
 * has beside. Accepted, translated, and what is left out named; through the route too, with the
 * official SDK and a stand-in that scripts the model's output only.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import { ChatCompletionRequestSchema, chatCompletionCall } from '../../../host/api/openai/chat-completions.ts'
import type { GenerateInput } from '../../../host/api/openai/generation.ts'
import type { InferenceAnswer, InferenceRequest, RequestsPort } from '../../../host/requests/requests-port.ts'
import { baseInit, generateOutput } from './fixtures.ts'

const DESCRIPTION = `Reads a file. ${'Say which lines to read. '.repeat(300)}`.slice(0, 6000)
const PARAMETERS = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }
const cached = (text: string) => ({ type: 'text', text, cache_control: { type: 'ephemeral' } })

/** A second turn as opencode and Qwen Code send it: the call made, its result, the next question. */
function agentRequest(over: Record<string, unknown> = {}) {
  return {
    model: 'tiny',
    messages: [
      { role: 'system', content: [cached('You are a coding agent.'), { type: 'text', text: ' Be brief.' }] },
      { role: 'user', name: 'dev', content: [cached('read a.txt')] },
      {
        role: 'assistant',
        content: [{ type: 'text', text: 'Reading.' }],
        reasoning_content: 'the user wants a.txt',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'read', arguments: '{"path":"a.txt"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'hello' }] },
    ],
    tools: [
      {
        type: 'function',
        function: { name: 'read', description: DESCRIPTION, parameters: PARAMETERS, strict: false },
      },
      { type: 'function', function: { name: 'list', description: DESCRIPTION, parameters: PARAMETERS } },
    ],
    tool_choice: 'auto',
    parallel_tool_calls: true,
    max_completion_tokens: 4000,
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.6,
    top_p: 0.95,
    user: 'u1',
    metadata: { session: 's1' },
    store: false,
    logprobs: false,
    service_tier: 'auto',
    prediction: { type: 'content', content: 'x' },
    modalities: ['text'],
    n: 1,
    ...over,
  }
}

const call = (body: Record<string, unknown>) => chatCompletionCall(ChatCompletionRequestSchema.parse(body))

describe('chat completions as coding agents send them', () => {
  it('takes their second turn: parts joined, long descriptions kept, reasoning and names noted', () => {
    const c = call(agentRequest())
    expect(c.input).toEqual({
      messages: [
        { role: 'system', content: 'You are a coding agent. Be brief.' },
        { role: 'user', content: 'read a.txt' },
        {
          role: 'assistant',
          content: 'Reading.',
          tool_calls: [{ id: 'call_1', name: 'read', arguments: '{"path":"a.txt"}' }],
        },
        { role: 'tool', content: 'hello', tool_call_id: 'call_1' },
      ],
      max_tokens: 4000,
      temperature: 0.6,
      top_p: 0.95,
      tools: [
        { name: 'read', description: DESCRIPTION, parameters: PARAMETERS },
        { name: 'list', description: DESCRIPTION, parameters: PARAMETERS },
      ],
      tool_choice: 'auto',
    })
    expect(c.input.tools?.[0]?.description).toHaveLength(6000)
    expect(c.ignored).toEqual([
      'name on messages',
      'reasoning_content given back: templates render answers only',
    ])
    expect(c).toMatchObject({ stream: true, includeUsage: true })
  })

  it.each([
    [
      'a part of another type on an assistant message',
      {
        messages: [
          { role: 'assistant', content: [{ type: 'thinking', thinking: 't' }] },
          { role: 'user', content: 'q' },
        ],
      },
      ['content part thinking in assistant messages'],
    ],
    [
      'an assistant refusal part, as its text',
      {
        messages: [
          { role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] },
          { role: 'user', content: 'q' },
        ],
      },
      [],
    ],
    [
      'a tool of another type',
      { messages: [{ role: 'user', content: 'q' }], tools: [{ type: 'custom', custom: { name: 'patch' } }] },
      ['tool custom: only functions are offered'],
    ],
  ])('leaves out %s', (_, body, notes) => {
    expect(call({ model: 'tiny', ...body }).ignored ?? []).toEqual(notes)
  })

  it('reads an empty tools list as none, and a tool without a type as a function', () => {
    expect(
      call({ model: 'tiny', messages: [{ role: 'user', content: 'q' }], tools: [] }).input,
    ).not.toHaveProperty('tools')
    const untyped = call({
      model: 'tiny',
      messages: [{ role: 'user', content: 'q' }],
      tools: [{ function: { name: 'f' } }],
    })
    expect(untyped.input.tools).toEqual([{ name: 'f' }])
  })

  it('still refuses what it cannot give: n above 1, a malformed function', () => {
    expect(ChatCompletionRequestSchema.safeParse(agentRequest({ n: 2 })).error?.issues[0]?.path).toEqual([
      'n',
    ])
    const bad = ChatCompletionRequestSchema.safeParse(
      agentRequest({ tools: [{ type: 'function', function: {} }] }),
    )
    expect(bad.error?.issues[0]?.path).toEqual(['tools', 0, 'function', 'name'])
  })
})

describe('through the route', () => {
  const inputs: GenerateInput[] = []
  const inference = {
    models: async () => [],
    run: async (request: InferenceRequest): Promise<InferenceAnswer> => {
      inputs.push(request.input as GenerateInput)
      request.onEvent?.({ type: 'submitted', task: 'uhCkkTASKHASH0123456789' })
      request.onEvent?.({ type: 'assigned', peer: 'uhCAkPEER' })
      request.onEvent?.({ type: 'token', text: 'It says hello.' })
      return {
        task: 'uhCkkTASKHASH0123456789',
        peer: 'uhCAkPEER',
        output: generateOutput({ text: 'It says hello.' }),
      }
    },
  } as unknown as RequestsPort
  let server: ApiServer
  beforeAll(async () => {
    server = new ApiServer(baseInit({ components: { requests: inference } }))
    await server.start()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('serves the agent’s request streamed, with the usage last', async () => {
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'the-token', maxRetries: 0 })
    const stream = await openai.chat.completions.create(agentRequest() as never)
    const chunks: { choices: { delta: { content?: string } }[]; usage?: unknown }[] = []
    for await (const chunk of stream as unknown as AsyncIterable<(typeof chunks)[number]>) chunks.push(chunk)
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('It says hello.')
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2 })
    expect(inputs[0]?.messages?.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool'])
  })
})
