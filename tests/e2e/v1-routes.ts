/**
 * The three generation routes of `/v1` behind one shape, through the official `openai` and
 * `@anthropic-ai/sdk` clients, so a test can ask each the same things: a plain answer (whole or
 * streamed), structured output, a forced tool call, a tool-result turn, and reasoning under a budget.
 * Every call is greedy (random weights sampled otherwise made an earlier test flaky).
 */
import type Anthropic from '@anthropic-ai/sdk'
import type OpenAI from 'openai'
import { expect } from 'vitest'

export const greedy = { temperature: 0, seed: 5 }
const question = 'What is the weather in Oslo?'
export const CITIES = ['Oslo', 'Bergen']
/** An enum: random weights fill a free string with multi-byte junk until max_tokens. */
export const schema = {
  type: 'object',
  properties: { city: { enum: CITIES } },
  required: ['city'],
}
/**
 * A forced call's tokens: on a thinking model the reasoning takes half, and a choice among the two
 * tools writes `{"name": ..., "arguments": {...}}` whole, with the spaces its grammar lets random
 * weights put between the parts (128 cut DeepSeek-R1's short). The others stop when the call is done.
 */
const CALL_TOKENS = 256
const other = { type: 'object', properties: { day: { enum: ['today', 'tomorrow'] } }, required: ['day'] }

/**
 * A streamed answer's text against the whole answer's, as llama-server gives them: the same, but at
 * the end of an answer cut by max_tokens, where one of them goes on with U+FFFD among its last bytes.
 * A stream never sends a tail it reads as a character cut short (a lead byte among the last bytes),
 * which a whole answer keeps as U+FFFD; a stream sends a lone last byte that is no text as U+FFFD,
 * which a whole answer drops as a cut character (whole-answer.ts: written so, the two look the same).
 * Random weights write such bytes; a real model's cut character is one both drop.
 */
export function expectStreamedText(streamed: string, whole: string, cut: boolean): void {
  if (streamed === whole) return
  expect(cut).toBe(true)
  const [shorter, longer] = streamed.length < whole.length ? [streamed, whole] : [whole, streamed]
  expect(longer.startsWith(shorter)).toBe(true)
  expect(longer.slice(shorter.length)).toContain('\uFFFD')
}

/** What an answer showed: its text, its reasoning, how many deltas carried them, why it ended. */
export interface Answer {
  text: string
  reasoning: string
  /** Text and reasoning deltas of a streamed answer (0 for a whole one). */
  deltas: number
  /** The tool calls it made. */
  calls: number
  finish: string
  /** The prompt's tokens, as the template rendered it. */
  inputTokens: number
  /** The output's tokens, and those of them the reasoning took where the API counts them apart. */
  outputTokens: number
  reasoningTokens?: number
}

export interface Call {
  name: string
  args: unknown
}

export interface Route {
  plain(model: string, stream: boolean): Promise<Answer>
  /** Each structured output the route offers, parsed. */
  structured(model: string): Promise<unknown[]>
  /** A call the request forces (among two tools, or the one named). */
  forcedCall(model: string): Promise<Call>
  /** The question, a call of the weather tool and its result: the answer to that. */
  toolResult(model: string): Promise<Answer>
  /** A plain answer with reasoning asked for under a budget of 1/8 of 32 tokens. */
  thinking(model: string): Promise<Answer>
}

export function routes(openai: OpenAI, anthropic: Anthropic): Record<string, Route> {
  return {
    'chat completions': chatRoute(openai),
    messages: messagesRoute(anthropic),
    responses: responsesRoute(openai),
  }
}

type ChatMessage = OpenAI.ChatCompletionMessage & { reasoning_content?: string }
type ChatDelta = { content?: string | null; reasoning_content?: string }

function chatRoute(openai: OpenAI): Route {
  const ask = [{ role: 'user' as const, content: question }]
  const tools: OpenAI.ChatCompletionTool[] = [
    { type: 'function', function: { name: 'weather', parameters: schema } },
    { type: 'function', function: { name: 'calendar', parameters: other } },
  ]
  const answer = async (params: OpenAI.ChatCompletionCreateParamsNonStreaming): Promise<Answer> => {
    const whole = await openai.chat.completions.create({ ...params, ...greedy })
    const message = whole.choices[0]?.message as ChatMessage
    return {
      text: message.content ?? '',
      reasoning: message.reasoning_content ?? '',
      deltas: 0,
      calls: message.tool_calls?.length ?? 0,
      finish: whole.choices[0]?.finish_reason ?? '',
      inputTokens: whole.usage?.prompt_tokens ?? 0,
      outputTokens: whole.usage?.completion_tokens ?? 0,
      reasoningTokens: whole.usage?.completion_tokens_details?.reasoning_tokens,
    }
  }
  return {
    async plain(model, stream) {
      const params = { model, messages: ask, max_tokens: 16 }
      if (!stream) return answer(params)
      const chunks = await openai.chat.completions.create({
        ...params,
        stream: true,
        stream_options: { include_usage: true },
        ...greedy,
      })
      const streamed: Answer = {
        text: '',
        reasoning: '',
        deltas: 0,
        calls: 0,
        finish: '',
        inputTokens: 0,
        outputTokens: 0,
      }
      for await (const chunk of chunks) {
        const delta = chunk.choices[0]?.delta as ChatDelta | undefined
        if (delta?.content) streamed.text += delta.content
        if (delta?.reasoning_content) streamed.reasoning += delta.reasoning_content
        if (delta?.content || delta?.reasoning_content) streamed.deltas++
        streamed.finish = chunk.choices[0]?.finish_reason ?? streamed.finish
        if (chunk.usage) {
          streamed.inputTokens = chunk.usage.prompt_tokens
          streamed.outputTokens = chunk.usage.completion_tokens
          streamed.reasoningTokens = chunk.usage.completion_tokens_details?.reasoning_tokens
        }
      }
      return streamed
    },
    async structured(model) {
      const json = await answer({
        model,
        messages: ask,
        max_tokens: 64,
        response_format: { type: 'json_schema', json_schema: { name: 'weather', schema } },
      })
      return [JSON.parse(json.text)]
    },
    async forcedCall(model) {
      const called = await openai.chat.completions.create({
        model,
        messages: ask,
        max_tokens: CALL_TOKENS,
        tools,
        tool_choice: { type: 'function', function: { name: 'weather' } },
        ...greedy,
      })
      const call = called.choices[0]?.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall
      return { name: call.function.name, args: JSON.parse(call.function.arguments) }
    },
    toolResult(model) {
      const call = { id: 'call_1', type: 'function' as const }
      return answer({
        model,
        max_tokens: 8,
        tools,
        messages: [
          ...ask,
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ ...call, function: { name: 'weather', arguments: '{"city":"Oslo"}' } }],
          },
          { role: 'tool', tool_call_id: call.id, content: '{"sky": "clear"}' },
        ],
      })
    },
    thinking(model) {
      return answer({ model, messages: ask, max_tokens: 32, reasoning_effort: 'low' })
    },
  }
}

function messagesRoute(anthropic: Anthropic): Route {
  const ask = [{ role: 'user' as const, content: question }]
  const tools = [
    { name: 'weather', input_schema: schema as Anthropic.Tool.InputSchema },
    { name: 'calendar', input_schema: other as Anthropic.Tool.InputSchema },
  ]
  // The SDK's types have no temperature or seed; Ripple's route takes them.
  const params = (p: object) => ({ ...p, ...greedy }) as unknown as Anthropic.MessageCreateParamsNonStreaming
  const read = (message: Anthropic.Message, deltas: number): Answer => ({
    text: message.content.map((b) => (b.type === 'text' ? b.text : '')).join(''),
    reasoning: message.content.map((b) => (b.type === 'thinking' ? b.thinking : '')).join(''),
    deltas,
    calls: message.content.filter((b) => b.type === 'tool_use').length,
    finish: message.stop_reason ?? '',
    // Anthropic counts the prompt's cached tokens apart from input_tokens.
    inputTokens: message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0),
    outputTokens: message.usage.output_tokens,
  })
  const call = async (p: object): Promise<Call> => {
    const message = await anthropic.messages.create(
      params({ messages: ask, max_tokens: CALL_TOKENS, tools, ...p }),
    )
    const use = message.content.find((b) => b.type === 'tool_use')
    if (use?.type !== 'tool_use') throw new Error(`no tool_use block: ${JSON.stringify(message)}`)
    return { name: use.name, args: use.input }
  }
  return {
    async plain(model, stream) {
      const p = params({ model, messages: ask, max_tokens: 16 })
      if (!stream) return read(await anthropic.messages.create(p), 0)
      let deltas = 0
      const events = anthropic.messages.stream(p)
      events.on('streamEvent', (e) => {
        if (
          e.type === 'content_block_delta' &&
          (e.delta.type === 'text_delta' || e.delta.type === 'thinking_delta')
        )
          deltas++
      })
      return read(await events.finalMessage(), deltas)
    },
    async structured(model) {
      return [(await call({ model, tool_choice: { type: 'tool', name: 'weather' } })).args]
    },
    forcedCall(model) {
      return call({ model, tool_choice: { type: 'any' } })
    },
    async toolResult(model) {
      const message = await anthropic.messages.create(
        params({
          model,
          max_tokens: 8,
          tools,
          messages: [
            ...ask,
            {
              role: 'assistant',
              content: [{ type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } }],
            },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'clear' }] },
          ],
        }),
      )
      return read(message, 0)
    },
    async thinking(model) {
      const p = params({
        model,
        messages: ask,
        max_tokens: 32,
        thinking: { type: 'enabled', budget_tokens: 4 },
      })
      return read(await anthropic.messages.create(p), 0)
    },
  }
}

function responsesRoute(openai: OpenAI): Route {
  const tools: OpenAI.Responses.FunctionTool[] = [
    { type: 'function', name: 'weather', parameters: schema, strict: false },
    { type: 'function', name: 'calendar', parameters: other, strict: false },
  ]
  const read = (response: OpenAI.Responses.Response, deltas: number): Answer => {
    let reasoning = ''
    for (const item of response.output)
      if (item.type === 'reasoning') reasoning += (item.content ?? []).map((c) => c.text).join('')
    let text = ''
    for (const item of response.output)
      if (item.type === 'message')
        for (const part of item.content) if (part.type === 'output_text') text += part.text
    return {
      text,
      reasoning,
      deltas,
      calls: response.output.filter((i) => i.type === 'function_call').length,
      finish: response.status ?? '',
      inputTokens: response.usage?.input_tokens ?? 0,
      outputTokens: response.usage?.output_tokens ?? 0,
      reasoningTokens: response.usage?.output_tokens_details.reasoning_tokens,
    }
  }
  const create = async (params: OpenAI.Responses.ResponseCreateParamsNonStreaming) =>
    openai.responses.create({ ...params, ...greedy })
  const call = async (model: string, tool_choice: OpenAI.Responses.ResponseCreateParams['tool_choice']) => {
    const response = await create({
      model,
      input: question,
      max_output_tokens: CALL_TOKENS,
      tools,
      tool_choice,
    })
    const item = response.output.find((i) => i.type === 'function_call')
    if (item?.type !== 'function_call') throw new Error(`no function_call item: ${JSON.stringify(response)}`)
    return { name: item.name, args: JSON.parse(item.arguments) as unknown }
  }
  return {
    async plain(model, stream) {
      const params = { model, input: question, max_output_tokens: 16 }
      if (!stream) return read(await create(params), 0)
      const events = await openai.responses.create({ ...params, stream: true, ...greedy })
      let deltas = 0
      let done: OpenAI.Responses.Response | null = null
      for await (const event of events) {
        if (event.type === 'response.output_text.delta' || event.type === 'response.reasoning_text.delta')
          deltas++
        if (event.type === 'response.completed' || event.type === 'response.incomplete') done = event.response
      }
      if (!done) throw new Error('the stream ended without response.completed or response.incomplete')
      return read(done, deltas)
    },
    async structured(model) {
      const json = await create({
        model,
        input: question,
        max_output_tokens: 64,
        text: { format: { type: 'json_schema', name: 'weather', schema } },
      })
      return [JSON.parse(json.output_text), (await call(model, { type: 'function', name: 'weather' })).args]
    },
    forcedCall(model) {
      return call(model, 'required')
    },
    async toolResult(model) {
      const response = await create({
        model,
        max_output_tokens: 8,
        tools,
        input: [
          { role: 'user', content: question },
          { type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'clear' },
        ],
      })
      return read(response, 0)
    },
    async thinking(model) {
      return read(
        await create({ model, input: question, max_output_tokens: 32, reasoning: { effort: 'low' } }),
        0,
      )
    },
  }
}
