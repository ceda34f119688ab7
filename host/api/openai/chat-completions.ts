/**
 * OpenAI's `POST /v1/chat/completions`, translated: the request into an `infer.generate` input, the
 * output into a chat completion, and the running peer's tokens into `chat.completion.chunk`s the way
 * OpenAI streams them (role first, content or tool-call argument deltas, the finish reason, then the
 * usage when `stream_options.include_usage` asks for it). A thinking model's reasoning is
 * `reasoning_content` (as DeepSeek's API and llama.cpp give it), streamed as `delta.reasoning_content`;
 * `reasoning_effort` bounds it. What coding agents send beside (content parts on every role, `name`,
 * `reasoning_content` given back, tools of other types) is accepted, and what is left out is named in
 * `ignored`. Pure: no I/O.
 */
import { z } from 'zod'
import type { ChatMessage } from '../../inference/tool-calls.ts'
import { renderEach, type ToolCallEvent } from '../../interface/run-event.ts'
import { byType, isOther, note } from './chat-typed-parts.ts'
import type { EndpointError } from './endpoint-error.ts'
import {
  answerText,
  effortBudget,
  type GenerateCall,
  type GenerateInput,
  type GenerateOutput,
  KeepAliveSchema,
  MaxTokensSchema,
  openaiUsage,
  optional,
  ReasoningEffortSchema,
  RippleExtensionSchema,
  rippleOptions,
  SeedSchema,
  StopSchema,
  samplingInput,
  stopList,
  streamMode,
  TemperatureSchema,
  TopPSchema,
  toolCallId,
} from './generation.ts'
import { ChatUserContentSchema, userMessage } from './image-parts.ts'
import { type SseEvent, type StreamRenderer, UNSHOWN } from './serve-task.ts'

/** Tokens to generate when the request sets no limit (OpenAI's is the context; this keeps a stray request short). */
export const DEFAULT_MAX_TOKENS = 2048

/**
 * Content other than a user's: a string, or parts whose text is read (`text`, an assistant's
 * `refusal`); a part of another type is left out with a note, not refused.
 */
const ContentSchema = z.preprocess(
  (content) => (typeof content === 'string' ? [{ type: 'text', text: content }] : (content ?? [])),
  z.array(
    byType({
      text: z.object({ text: z.string() }),
      refusal: z.object({ refusal: z.string() }).transform((p) => ({ text: p.refusal })),
    }),
  ),
)

/** A message's `name` (a participant's): accepted, noted; the templates have no place for it. */
const NameSchema = z.string().nullish()

const MessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer']), content: ContentSchema, name: NameSchema }),
  z.object({ role: z.literal('user'), content: ChatUserContentSchema, name: NameSchema }),
  z.object({
    role: z.literal('assistant'),
    content: ContentSchema,
    name: NameSchema,
    /** The reasoning a thinking model gave (DeepSeek's, llama.cpp's), sent back: dropped, as templates render answers. */
    reasoning_content: z.string().nullish(),
    tool_calls: z
      .array(
        z.object({
          id: z.string().min(1),
          type: z.literal('function').default('function'),
          function: z.object({ name: z.string().min(1), arguments: z.string() }),
        }),
      )
      .nullish(),
  }),
  z.object({
    role: z.literal('tool'),
    content: ContentSchema,
    tool_call_id: z.string().min(1),
    name: NameSchema,
  }),
])

/** Functions, however long their descriptions; a tool of another type is left out with a note. */
export const ToolsSchema = z.array(
  byType(
    {
      function: z.object({
        function: z.object({
          name: z.string().min(1),
          description: z.string().nullish(),
          parameters: z.record(z.string(), z.json()).nullish(),
          strict: z.boolean().nullish(),
        }),
      }),
    },
    'function',
  ),
)

const ToolChoiceSchema = z.union([
  z.enum(['auto', 'none', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) }),
])

export const ResponseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string(),
      schema: z.record(z.string(), z.json()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
])

export const ChatCompletionRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(MessageSchema).min(1),
  max_tokens: MaxTokensSchema.nullish(),
  max_completion_tokens: MaxTokensSchema.nullish(),
  temperature: TemperatureSchema.nullish(),
  top_p: TopPSchema.nullish(),
  seed: SeedSchema.nullish(),
  keep_alive: KeepAliveSchema.optional(),
  stop: StopSchema.nullish(),
  n: z.literal(1, 'only n = 1 is supported').nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  response_format: ResponseFormatSchema.nullish(),
  tools: ToolsSchema.nullish(),
  tool_choice: ToolChoiceSchema.nullish(),
  reasoning_effort: ReasoningEffortSchema.nullish(),
  ripple: RippleExtensionSchema,
})
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>

/** Any JSON object: what `json_object` asks for. */
export const ANY_JSON_OBJECT = { type: 'object', additionalProperties: true }

export function chatCompletionCall(request: ChatCompletionRequest): GenerateCall & { includeUsage: boolean } {
  const ignored: string[] = []
  const messages: ChatMessage[] = request.messages.map((m) => {
    if (m.name) note(ignored, 'name on messages')
    if (m.role === 'user') return userMessage(m.content)
    const content = textOf(m.content, m.role, ignored)
    if (m.role === 'tool') return { role: 'tool', content, tool_call_id: m.tool_call_id }
    if (m.role === 'assistant') {
      if (m.reasoning_content) note(ignored, 'reasoning_content given back: templates render answers only')
      const calls = m.tool_calls?.map((c) => ({
        id: c.id,
        name: c.function.name,
        arguments: c.function.arguments,
      }))
      return { role: 'assistant', content, ...(calls?.length ? { tool_calls: calls } : {}) }
    }
    return { role: 'system', content }
  })
  const tools = (request.tools ?? []).flatMap((t) => {
    if (!isOther(t)) return [t.function]
    note(ignored, `tool ${t.other}: only functions are offered`)
    return []
  })
  const choice = request.tool_choice
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_MAX_TOKENS
  const input: GenerateInput = {
    messages,
    max_tokens: maxTokens,
    ...samplingInput(request, {
      stop: stopList(request.stop),
      reasoningBudget: effortBudget(request.reasoning_effort, maxTokens),
    }),
    ...optional('json_schema', jsonSchemaOf(request.response_format)),
    ...optional(
      'tools',
      tools.length === 0
        ? undefined
        : tools.map((t) => ({
            name: t.name,
            ...optional('description', t.description),
            ...optional('parameters', t.parameters),
          })),
    ),
    ...optional(
      'tool_choice',
      typeof choice === 'object' && choice !== null ? { name: choice.function.name } : choice,
    ),
  }
  return {
    model: request.model,
    input,
    ...rippleOptions(request.ripple),
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    ...(ignored.length > 0 ? { ignored } : {}),
  }
}

/** The text of a message's parts; the parts of other types go to `ignored`. */
function textOf(parts: z.output<typeof ContentSchema>, role: string, ignored: string[]): string {
  const text: string[] = []
  for (const part of parts)
    if (isOther(part)) note(ignored, `content part ${part.other} in ${role} messages`)
    else text.push(part.text)
  return text.join('')
}

export function jsonSchemaOf(
  format: z.infer<typeof ResponseFormatSchema> | null | undefined,
): Record<string, z.core.util.JSONType> | undefined {
  if (format?.type === 'json_object') return ANY_JSON_OBJECT
  if (format?.type === 'json_schema') return format.json_schema.schema ?? ANY_JSON_OBJECT
  return undefined
}

/** OpenAI's finish reasons for the worker's stop reasons. */
export function finishReason(output: GenerateOutput): 'stop' | 'length' | 'tool_calls' {
  if (output.tool_calls.length > 0) return 'tool_calls'
  return output.stop_reason === 'max_tokens' ? 'length' : 'stop'
}

interface Identity {
  task: string
  model: string
  /** Unix seconds. */
  created: number
}

function toolCalls(id: Identity, output: GenerateOutput) {
  return output.tool_calls.map((c, i) => ({
    id: toolCallId('call_', id.task, i),
    type: 'function' as const,
    function: { name: c.name, arguments: c.arguments },
  }))
}

export function chatCompletion(id: Identity, output: GenerateOutput) {
  const calls = toolCalls(id, output)
  const text = answerText(output)
  return {
    id: `chatcmpl-${id.task}`,
    object: 'chat.completion' as const,
    created: id.created,
    model: id.model,
    system_fingerprint: output.model.file_hash,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          content: calls.length > 0 && text === '' ? null : text,
          ...(output.reasoning !== '' ? { reasoning_content: output.reasoning } : {}),
          refusal: null,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(output),
      },
    ],
    usage: openaiUsage(output),
  }
}

/**
 * The chunks of a streamed chat completion, in order: `start`, a `token`, `reasoning` or `toolCall`
 * per piece, then `finish`.
 */
export class ChatChunks {
  readonly #id: Identity
  readonly #mode: ReturnType<typeof streamMode>
  readonly #includeUsage: boolean
  /** Reasoning streamed so far: the finish sends the rest (a route that carried none, all of it). */
  #reasoned = 0
  /** Calls opened so far: the finish sends the others whole. */
  #calls = 0

  constructor(id: Identity, input: GenerateInput, includeUsage: boolean) {
    this.#id = id
    this.#mode = streamMode(input)
    this.#includeUsage = includeUsage
  }

  start() {
    if (this.#mode.kind !== 'arguments') return this.#chunk({ role: 'assistant', content: '' })
    const call = {
      index: 0,
      id: toolCallId('call_', this.#id.task, 0),
      type: 'function',
      function: { name: this.#mode.name, arguments: '' },
    }
    return this.#chunk({ role: 'assistant', content: null, tool_calls: [call] })
  }

  reasoning(text: string) {
    if (text === '') return []
    this.#reasoned += text.length
    return [this.#chunk({ reasoning_content: text })]
  }

  /** Chunks for a piece of text the peer produced (none while a call is buffered). */
  token(text: string) {
    if (this.#mode.kind === 'buffered' || text === '') return []
    if (this.#mode.kind === 'arguments')
      return [this.#chunk({ tool_calls: [{ index: 0, function: { arguments: text } }] })]
    return [this.#chunk({ content: text })]
  }

  /** A chunk for a piece of a call (its first names it; a forced call's came as text). */
  toolCall({ index, name, arguments: piece }: ToolCallEvent) {
    if (this.#mode.kind === 'arguments') return []
    if (index < this.#calls) return [this.#chunk({ tool_calls: [{ index, function: { arguments: piece } }] })]
    this.#calls = index + 1
    const call = { index, id: toolCallId('call_', this.#id.task, index), type: 'function' }
    return [this.#chunk({ tool_calls: [{ ...call, function: { name, arguments: piece } }] })]
  }

  /** The last chunks: calls not streamed yet, the finish reason, the usage when asked for. */
  finish(output: GenerateOutput) {
    const chunks = []
    const unsent = output.reasoning.slice(this.#reasoned)
    if (unsent !== '') chunks.push(this.#chunk({ reasoning_content: unsent }))
    const streamed = this.#mode.kind === 'arguments' ? 1 : this.#calls
    const calls = toolCalls(this.#id, output).slice(streamed)
    if (calls.length > 0)
      chunks.push(this.#chunk({ tool_calls: calls.map((c, i) => ({ index: streamed + i, ...c })) }))
    chunks.push(this.#chunk({}, finishReason(output)))
    if (this.#includeUsage) chunks.push({ ...this.#base(), choices: [], usage: openaiUsage(output) })
    return chunks
  }

  #base() {
    return {
      id: `chatcmpl-${this.#id.task}`,
      object: 'chat.completion.chunk' as const,
      created: this.#id.created,
      model: this.#id.model,
    }
  }

  #chunk(delta: Record<string, unknown>, finish: string | null = null) {
    return {
      ...this.#base(),
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(this.#includeUsage ? { usage: null } : {}),
    }
  }
}

/** A streamed chat completion: its chunks as server-sent events, `[DONE]` last. */
export function chatStream(
  id: Identity,
  input: GenerateInput,
  includeUsage: boolean,
  errorBody: (err: EndpointError) => unknown,
): StreamRenderer {
  const chunks = new ChatChunks(id, input, includeUsage)
  const events = (list: object[]): SseEvent[] => list.map((data) => ({ data }))
  return {
    start: () => [{ data: chunks.start() }],
    render: renderEach<SseEvent[]>({
      ...UNSHOWN,
      reasoning: ({ text }) => events(chunks.reasoning(text)),
      token: ({ text }) => events(chunks.token(text)),
      'tool-call': (call) => events(chunks.toolCall(call)),
      done: ({ output }) => [...events(chunks.finish(output as GenerateOutput)), { data: '[DONE]' }],
    }),
    error: (err) => [{ data: errorBody(err) }],
  }
}
