/**
 * OpenAI's Responses API (`POST /v1/responses`), translated: input items (responses-input.ts) and
 * `instructions` into an `infer.generate` input, with the tools as the model can take them
 * (responses-tools.ts); the output into a `response` with a reasoning item (a thinking model's
 * reasoning, as `reasoning_text`; `reasoning.effort` bounds it), a message item and the calls as the
 * client named its tools (`function_call` with its `namespace`, `custom_tool_call`) (the stream:
 * responses-stream.ts). What Codex sends beside (`include`, `reasoning.summary`, `text.verbosity`,
 * built-in tools, items of other kinds) is accepted and named in `ignored`; `store: false` keeps the
 * response from the store. Pure: a `previous_response_id`'s conversation comes from the answering
 * peer's store (response-store.ts), handed in.
 */
import { z } from 'zod'
import type { ChatMessage, ToolCall } from '../../inference/tool-calls.ts'
import { ANY_JSON_OBJECT, finishReason } from './chat-completions.ts'
import { note } from './chat-typed-parts.ts'
import {
  answerText,
  effortBudget,
  type GenerateCall,
  type GenerateInput,
  type GenerateOutput,
  KeepAliveSchema,
  MAX_TOKENS,
  MaxTokensSchema,
  optional,
  ReasoningEffortSchema,
  RippleExtensionSchema,
  rippleOptions,
  SeedSchema,
  samplingInput,
  TemperatureSchema,
  TopPSchema,
  toolCallId,
  usage,
} from './generation.ts'
import { conversationOf, InputItemSchema } from './responses-input.ts'
import {
  type ClientTools,
  clientCall,
  NO_TOOLS,
  offerTools,
  ResponseToolChoiceSchema,
  ResponseToolsSchema,
} from './responses-tools.ts'
import type { TaskIdentity } from './serve-task.ts'

const FormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().nullish(),
    schema: z.record(z.string(), z.json()),
  }),
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
  /** `false`: the response is not kept for a later `previous_response_id` (Codex sends its whole input). */
  store: z.boolean().nullish(),
  tools: ResponseToolsSchema.nullish(),
  tool_choice: ResponseToolChoiceSchema.nullish(),
  text: z.object({ format: FormatSchema.nullish(), verbosity: z.string().nullish() }).nullish(),
  reasoning: z.object({ effort: ReasoningEffortSchema.nullish(), summary: z.string().nullish() }).nullish(),
  /** Extra output asked for (`reasoning.encrypted_content`, logprobs...): none is made; each is noted. */
  include: z.array(z.string()).nullish(),
  ripple: RippleExtensionSchema,
})
export type ResponseRequest = z.infer<typeof ResponseRequestSchema>

/** A request read: `history` is what the next response keeps, `tools` how calls go back to the client. */
export type ResponseCall = GenerateCall & { history: ChatMessage[]; tools: ClientTools; store: boolean }

/**
 * The call for a request, after `previous` (the conversation its `previous_response_id` ended; the
 * instructions are not carried over, as OpenAI's).
 */
export function responseCall(request: ResponseRequest, previous: readonly ChatMessage[] = []): ResponseCall {
  const ignored: string[] = []
  const offered = offerTools(request.tools, request.tool_choice, ignored)
  const items =
    typeof request.input === 'string'
      ? [{ type: 'message' as const, role: 'user' as const, content: [{ text: request.input }] }]
      : request.input
  const history = [...previous, ...conversationOf(items, offered.clientTools, ignored)]
  const messages = leadingSystemJoined([
    ...(request.instructions ? [{ role: 'system' as const, content: request.instructions }] : []),
    ...history,
  ])
  const format = request.text?.format
  // Absent, as OpenAI's: what the model can give (the runner clamps it to what its context leaves).
  // Codex sends none, and a coding turn on a thinking model outgrows any small default.
  const maxTokens = request.max_output_tokens ?? MAX_TOKENS
  if (request.text?.verbosity) note(ignored, 'text.verbosity')
  if (request.reasoning?.summary && request.reasoning.summary !== 'none')
    note(ignored, 'reasoning.summary: no summary is written (the reasoning is given as reasoning_text)')
  for (const extra of request.include ?? []) note(ignored, `include ${extra}`)
  const input: GenerateInput = {
    messages,
    max_tokens: maxTokens,
    ...samplingInput(request, { reasoningBudget: effortBudget(request.reasoning?.effort, maxTokens) }),
    ...optional(
      'json_schema',
      format?.type === 'json_schema'
        ? format.schema
        : format?.type === 'json_object'
          ? ANY_JSON_OBJECT
          : undefined,
    ),
    ...optional('tools', offered.tools),
    ...optional('tool_choice', offered.tool_choice),
  }
  return {
    model: request.model,
    input,
    ...rippleOptions(request.ripple),
    stream: request.stream === true,
    history,
    tools: offered.clientTools,
    store: request.store !== false,
    ...(ignored.length > 0 ? { ignored } : {}),
  }
}

/**
 * The system messages the conversation starts with (the instructions, Codex's developer messages) as
 * one: many templates take a single system prompt. Later ones stay where they are, so the prompt a
 * runner has cached stays a prefix of the next turn's.
 */
function leadingSystemJoined(messages: ChatMessage[]): ChatMessage[] {
  const lead = messages.findIndex((m) => m.role !== 'system')
  const count = lead === -1 ? messages.length : lead
  if (count < 2) return messages
  const content = messages
    .slice(0, count)
    .map((m) => m.content)
    .join('\n\n')
  return [{ role: 'system', content }, ...messages.slice(count)]
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

/** The answer's `index`th call, as the client's tool takes it (a function's or a custom tool's). */
export function callItem(
  id: TaskIdentity,
  index: number,
  call: ToolCall,
  tools: ClientTools,
  status: 'in_progress' | 'completed',
) {
  const c = clientCall(call, tools)
  const call_id = responseCallId(id, index)
  return c.type === 'custom_tool_call'
    ? { type: c.type, id: `ctc_${suffix(id.task)}${index}`, call_id, name: c.name, input: c.input, status }
    : { ...c, id: `fc_${suffix(id.task)}${index}`, call_id, status }
}

/** The answer's items: the message (when there is text, nothing else, or a stream opened it), then each call. */
export function answerItems(
  id: TaskIdentity,
  output: GenerateOutput,
  tools: ClientTools,
  withMessage = false,
) {
  const text = answerText(output)
  const calls = output.tool_calls.map((c, i) => callItem(id, i, c, tools, 'completed'))
  const message = withMessage || text !== '' || calls.length === 0
  return [...(message ? [messageItem(id, text, 'completed')] : []), ...calls]
}

export type OutputItem =
  | ReturnType<typeof reasoningItem>
  | ReturnType<typeof messageItem>
  | ReturnType<typeof callItem>

/** The response, with its items in order (a stream gives them in the order it sent them). */
export function responseObject(id: TaskIdentity, output: GenerateOutput | null, items: OutputItem[]) {
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
    output: items,
    incomplete_details: truncated ? { reason: 'max_output_tokens' as const } : null,
    error: null,
    usage: u && {
      input_tokens: u.prompt,
      input_tokens_details: { cached_tokens: output.timings.cached_tokens },
      output_tokens: u.completion,
      output_tokens_details: { reasoning_tokens: u.reasoning },
      total_tokens: u.prompt + u.completion,
    },
  }
}

export function response(id: TaskIdentity, output: GenerateOutput, tools: ClientTools = NO_TOOLS) {
  return responseObject(id, output, [
    ...(output.reasoning !== '' ? [reasoningItem(id, output.reasoning, 'completed')] : []),
    ...answerItems(id, output, tools),
  ])
}
