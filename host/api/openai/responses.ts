/**
 * OpenAI's Responses API (`POST /v1/responses`), translated: input items (messages, function calls and
 * their outputs) and `instructions` into an `infer.generate` input; the output into a `response` with
 * a reasoning item (a thinking model's reasoning, as `reasoning_text`; `reasoning.effort` bounds it), a
 * message item and function-call items (the stream: responses-stream.ts). Reasoning items sent back as
 * input are dropped: templates render only the answers. Pure: a `previous_response_id`'s conversation
 * comes from the answering peer's store (response-store.ts), handed in.
 */
import { z } from 'zod'
import type { ChatMessage } from '../../inference/tool-calls.ts'
import { ANY_JSON_OBJECT, DEFAULT_MAX_TOKENS, finishReason } from './chat-completions.ts'
import {
  answerText,
  effortBudget,
  type GenerateCall,
  type GenerateInput,
  type GenerateOutput,
  KeepAliveSchema,
  MaxTokensSchema,
  optional,
  ReasoningEffortSchema,
  RippleExtensionSchema,
  rippleOptions,
  SeedSchema,
  TemperatureSchema,
  TopPSchema,
  toolCallId,
  usage,
} from './generation.ts'
import { InputImagePartSchema } from './image-parts.ts'
import type { TaskIdentity } from './serve-task.ts'

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
  z.object({ type: z.literal('reasoning') }),
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
  reasoning: z.object({ effort: ReasoningEffortSchema.nullish() }).nullish(),
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
    } else if (item.type === 'function_call_output')
      history.push({ role: 'tool', content: item.output, tool_call_id: item.call_id })
  }
  const messages: ChatMessage[] = [
    ...(request.instructions ? [{ role: 'system' as const, content: request.instructions }] : []),
    ...history,
  ]
  const format = request.text?.format
  const choice = request.tool_choice
  const maxTokens = request.max_output_tokens ?? DEFAULT_MAX_TOKENS
  const input: GenerateInput = {
    messages,
    max_tokens: maxTokens,
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
    ...optional('reasoning_budget', effortBudget(request.reasoning?.effort, maxTokens)),
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

export const suffix = (task: string) => task.slice(-24).replace(/[^A-Za-z0-9]/g, '')

export function reasoningItem(id: TaskIdentity, text: string, status: 'in_progress' | 'completed') {
  return {
    type: 'reasoning' as const,
    id: `rs_${suffix(id.task)}`,
    status,
    summary: [],
    content: status === 'completed' ? [{ type: 'reasoning_text' as const, text }] : [],
  }
}

export function messageItem(id: TaskIdentity, text: string, status: 'in_progress' | 'completed') {
  return {
    type: 'message' as const,
    id: `msg_${suffix(id.task)}`,
    status,
    role: 'assistant' as const,
    content: status === 'completed' ? [outputText(text)] : [],
  }
}

export function outputText(text: string) {
  return { type: 'output_text' as const, text, annotations: [] }
}

export function callItem(
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

/** The answer's items: the message (when there is text, nothing else, or a stream opened it), then each call. */
export function answerItems(id: TaskIdentity, output: GenerateOutput, withMessage = false) {
  const text = answerText(output)
  const calls = output.tool_calls.map((c, i) => callItem(id, i, c.name, c.arguments, 'completed'))
  const message = withMessage || text !== '' || calls.length === 0
  return [...(message ? [messageItem(id, text, 'completed')] : []), ...calls]
}

export type OutputItem =
  | ReturnType<typeof reasoningItem>
  | ReturnType<typeof messageItem>
  | ReturnType<typeof callItem>

/** The response; its items, when not given (a stream gives them in the order it sent them), in order. */
export function responseObject(id: TaskIdentity, output: GenerateOutput | null, items?: OutputItem[]) {
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
    output: output === null ? [] : (items ?? outputItems(id, output)),
    incomplete_details: truncated ? { reason: 'max_output_tokens' as const } : null,
    error: null,
    parallel_tool_calls: false,
    usage: u && {
      input_tokens: u.prompt,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: u.completion,
      output_tokens_details: { reasoning_tokens: u.reasoning },
      total_tokens: u.prompt + u.completion,
    },
  }
}

function outputItems(id: TaskIdentity, output: GenerateOutput): OutputItem[] {
  return [
    ...(output.reasoning !== '' ? [reasoningItem(id, output.reasoning, 'completed')] : []),
    ...answerItems(id, output),
  ]
}

export function response(id: TaskIdentity, output: GenerateOutput) {
  return responseObject(id, output)
}
