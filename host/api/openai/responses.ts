/**
 * OpenAI's Responses API (`POST /v1/responses`), translated: input items (messages, function calls and
 * their outputs) and `instructions` into an `infer.generate` input; the output into a `response` with
 * a message item and function-call items; a stream into its typed events (`response.created`, text and
 * argument deltas, `response.completed`), each with its sequence number. Pure: a `previous_response_id`'s
 * conversation comes from the answering peer's store (response-store.ts), handed in.
 */
import { z } from 'zod'
import type { ChatMessage } from '../../inference/tool-calls.ts'
import { ANY_JSON_OBJECT, DEFAULT_MAX_TOKENS, finishReason } from './chat-completions.ts'
import {
  answerText,
  type GenerateCall,
  type GenerateInput,
  type GenerateOutput,
  KeepAliveSchema,
  MaxTokensSchema,
  optional,
  RippleExtensionSchema,
  rippleOptions,
  SeedSchema,
  streamMode,
  TemperatureSchema,
  TopPSchema,
  toolCallId,
  usage,
} from './generation.ts'
import { InputImagePartSchema } from './image-parts.ts'
import type { SseEvent, StreamRenderer, TaskIdentity } from './serve-task.ts'

const TextContentSchema = z.union([
  z.string(),
  z.array(
    z.discriminatedUnion('type', [
      z.object({ type: z.enum(['input_text', 'output_text']), text: z.string().optional() }),
      InputImagePartSchema,
    ]),
  ),
])

const InputItemSchema = z.union([
  z.object({
    type: z.literal('message').optional(),
    role: z.enum(['user', 'system', 'developer', 'assistant']),
    content: TextContentSchema,
  }),
  z.object({
    type: z.literal('function_call'),
    call_id: z.string().min(1),
    name: z.string().min(1),
    arguments: z.string(),
  }),
  z.object({ type: z.literal('function_call_output'), call_id: z.string().min(1), output: z.string() }),
])

const FormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({ type: z.literal('json_schema'), name: z.string(), schema: z.record(z.string(), z.json()) }),
])

export const ResponseRequestSchema = z.object({
  model: z.string().min(1),
  input: z.union([z.string().min(1), z.array(InputItemSchema).min(1)]),
  instructions: z.string().nullish(),
  max_output_tokens: MaxTokensSchema.nullish(),
  temperature: TemperatureSchema.nullish(),
  top_p: TopPSchema.nullish(),
  seed: SeedSchema.nullish(),
  keep_alive: KeepAliveSchema.optional(),
  stream: z.boolean().nullish(),
  /** Continue the conversation a response of this peer ended (kept an hour), sending only what is new. */
  previous_response_id: z.string().min(1).max(128).nullish(),
  tools: z
    .array(
      z.object({
        type: z.literal('function'),
        name: z.string().min(1),
        description: z.string().nullish(),
        parameters: z.record(z.string(), z.json()).nullish(),
      }),
    )
    .nullish(),
  tool_choice: z
    .union([
      z.enum(['auto', 'none', 'required']),
      z.object({ type: z.literal('function'), name: z.string().min(1) }),
    ])
    .nullish(),
  text: z.object({ format: FormatSchema.optional() }).nullish(),
  ripple: RippleExtensionSchema,
})
export type ResponseRequest = z.infer<typeof ResponseRequestSchema>

/**
 * The call for a request, after `previous` (the conversation its `previous_response_id` ended; the
 * instructions are not carried over, as OpenAI's). `history` is what the next response keeps.
 */
export function responseCall(
  request: ResponseRequest,
  previous: readonly ChatMessage[] = [],
): GenerateCall & { history: ChatMessage[] } {
  const history: ChatMessage[] = [...previous]
  const items =
    typeof request.input === 'string' ? [{ role: 'user' as const, content: request.input }] : request.input
  for (const item of items) {
    if ('role' in item) {
      const parts = typeof item.content === 'string' ? [{ text: item.content }] : item.content
      const content = parts.map((p) => (typeof p === 'string' ? '' : (p.text ?? ''))).join('')
      // An image (its URL) on another role than the user's is refused with the worker's words.
      const images = parts.filter((p) => typeof p === 'string')
      history.push({
        role: item.role === 'developer' ? 'system' : item.role,
        content,
        ...(images.length > 0 ? { images } : {}),
      })
    } else if (item.type === 'function_call') {
      const call = { id: item.call_id, name: item.name, arguments: item.arguments }
      const last = history.at(-1)
      // Calls right after an assistant message are that message's; otherwise they make one of their own.
      if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call]
      else history.push({ role: 'assistant', content: '', tool_calls: [call] })
    } else history.push({ role: 'tool', content: item.output, tool_call_id: item.call_id })
  }
  const messages: ChatMessage[] = [
    ...(request.instructions ? [{ role: 'system' as const, content: request.instructions }] : []),
    ...history,
  ]
  const format = request.text?.format
  const choice = request.tool_choice
  const input: GenerateInput = {
    messages,
    max_tokens: request.max_output_tokens ?? DEFAULT_MAX_TOKENS,
    temperature: request.temperature ?? 1,
    ...optional('top_p', request.top_p),
    ...optional('seed', request.seed),
    ...optional('keep_alive_ms', request.keep_alive),
    ...optional(
      'json_schema',
      format?.type === 'json_schema'
        ? format.schema
        : format?.type === 'json_object'
          ? ANY_JSON_OBJECT
          : undefined,
    ),
    ...optional(
      'tools',
      request.tools?.map((t) => ({
        name: t.name,
        ...optional('description', t.description),
        ...optional('parameters', t.parameters),
      })),
    ),
    ...optional(
      'tool_choice',
      typeof choice === 'object' && choice !== null ? { name: choice.name } : choice,
    ),
  }
  return {
    model: request.model,
    input,
    ...rippleOptions(request.ripple),
    stream: request.stream === true,
    history,
  }
}

/** A response's id, as its object and the store name it. */
export const responseId = (id: TaskIdentity): string => `resp_${suffix(id.task)}`

/** The call id of a response's `index`th function call, as its output item names it. */
export const responseCallId = (id: TaskIdentity, index: number): string => toolCallId('call_', id.task, index)

const suffix = (task: string) => task.slice(-24).replace(/[^A-Za-z0-9]/g, '')

function messageItem(id: TaskIdentity, text: string, status: 'in_progress' | 'completed') {
  return {
    type: 'message' as const,
    id: `msg_${suffix(id.task)}`,
    status,
    role: 'assistant' as const,
    content: status === 'completed' ? [outputText(text)] : [],
  }
}

function outputText(text: string) {
  return { type: 'output_text' as const, text, annotations: [] }
}

function callItem(
  id: TaskIdentity,
  index: number,
  name: string,
  args: string,
  status: 'in_progress' | 'completed',
) {
  return {
    type: 'function_call' as const,
    id: `fc_${suffix(id.task)}${index}`,
    call_id: responseCallId(id, index),
    name,
    arguments: args,
    status,
  }
}

/** The output items: the message (when there is text, nothing else, or a stream opened it), then each call. */
function outputItems(id: TaskIdentity, output: GenerateOutput, withMessage = false) {
  const text = answerText(output)
  const calls = output.tool_calls.map((c, i) => callItem(id, i, c.name, c.arguments, 'completed'))
  const message = withMessage || text !== '' || calls.length === 0
  return [...(message ? [messageItem(id, text, 'completed')] : []), ...calls]
}

function responseObject(id: TaskIdentity, output: GenerateOutput | null) {
  const truncated = output !== null && finishReason(output) === 'length'
  const u = output && usage(output)
  return {
    id: responseId(id),
    object: 'response' as const,
    created_at: id.created,
    status:
      output === null
        ? ('in_progress' as const)
        : truncated
          ? ('incomplete' as const)
          : ('completed' as const),
    model: id.model,
    output: output === null ? [] : outputItems(id, output),
    incomplete_details: truncated ? { reason: 'max_output_tokens' as const } : null,
    error: null,
    parallel_tool_calls: false,
    usage: u && {
      input_tokens: u.prompt,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: u.completion,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: u.prompt + u.completion,
    },
  }
}

export function response(id: TaskIdentity, output: GenerateOutput) {
  return responseObject(id, output)
}

export function responseStream(
  id: TaskIdentity,
  input: GenerateInput,
  errorBody: (err: Error) => unknown,
): StreamRenderer {
  const mode = streamMode(input)
  let sequence = 0
  const event = (type: string, data: Record<string, unknown>): SseEvent => ({
    event: type,
    data: { type, sequence_number: sequence++, ...data },
  })
  const message = messageItem(id, '', 'in_progress')
  const part = { item_id: message.id, output_index: 0, content_index: 0 }
  return {
    start: () => [
      event('response.created', { response: responseObject(id, null) }),
      event('response.in_progress', { response: responseObject(id, null) }),
      ...(mode.kind === 'text'
        ? [
            event('response.output_item.added', { output_index: 0, item: message }),
            event('response.content_part.added', { ...part, part: outputText('') }),
          ]
        : mode.kind === 'arguments'
          ? [
              event('response.output_item.added', {
                output_index: 0,
                item: callItem(id, 0, mode.name, '', 'in_progress'),
              }),
            ]
          : []),
    ],
    token: (text) => {
      if (text === '' || mode.kind === 'buffered') return []
      if (mode.kind === 'arguments') {
        const item_id = callItem(id, 0, mode.name, '', 'in_progress').id
        return [event('response.function_call_arguments.delta', { item_id, output_index: 0, delta: text })]
      }
      return [event('response.output_text.delta', { ...part, delta: text })]
    },
    finish: (output) => {
      const o = output as GenerateOutput
      const items = outputItems(id, o, mode.kind === 'text')
      const events: SseEvent[] = []
      // What was opened at the start is closed first, then the items not streamed are added whole.
      items.forEach((item, index) => {
        const opened =
          index === 0 && ((mode.kind === 'text' && item.type === 'message') || mode.kind === 'arguments')
        if (!opened)
          events.push(
            event('response.output_item.added', {
              output_index: index,
              item: { ...item, status: 'in_progress' },
            }),
          )
        if (item.type === 'message') {
          const text = item.content[0]?.text ?? ''
          if (!opened)
            events.push(
              event('response.content_part.added', { ...part, output_index: index, part: outputText('') }),
            )
          if (!opened && text !== '')
            events.push(event('response.output_text.delta', { ...part, output_index: index, delta: text }))
          events.push(event('response.output_text.done', { ...part, output_index: index, text }))
          events.push(
            event('response.content_part.done', { ...part, output_index: index, part: outputText(text) }),
          )
        } else {
          if (!opened)
            events.push(
              event('response.function_call_arguments.delta', {
                item_id: item.id,
                output_index: index,
                delta: item.arguments,
              }),
            )
          events.push(
            event('response.function_call_arguments.done', {
              item_id: item.id,
              output_index: index,
              arguments: item.arguments,
            }),
          )
        }
        events.push(event('response.output_item.done', { output_index: index, item }))
      })
      events.push(
        event(o.stop_reason === 'max_tokens' ? 'response.incomplete' : 'response.completed', {
          response: responseObject(id, o),
        }),
      )
      return events
    },
    error: (err) => [event('error', { ...(errorBody(err) as { error: object }).error })],
  }
}
