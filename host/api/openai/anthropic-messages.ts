/**
 * Anthropic's Messages API (`POST /v1/messages`, and `/v1/messages/count_tokens`), read as Claude Code
 * and the SDKs send it: the conversation (anthropic-content.ts), custom tools (server tools no peer
 * runs are left out and named), `tool_choice`, `thinking` and `output_config` (effort as a reasoning
 * budget, a JSON schema as the output's), and `context_management`, applied or reported unapplied.
 * The answer, whole and streamed, is anthropic-reply.ts and anthropic-stream.ts. Pure.
 */
import { z } from 'zod'
import { ContentSchema, conversation, MessageSchema, OtherSchema, otherThan } from './anthropic-content.ts'
import type { AppliedEdit, MessagesReply } from './anthropic-reply.ts'
import { EndpointError } from './endpoint-error.ts'
import {
  effortBudget,
  type GenerateCall,
  type GenerateInput,
  type GenerateOutput,
  KeepAliveSchema,
  MAX_TOKENS,
  MaxTokensSchema,
  optional,
  RippleExtensionSchema,
  rippleOptions,
  SeedSchema,
  samplingInput,
  TopPSchema,
  usage,
} from './generation.ts'

export { anthropicMessage } from './anthropic-reply.ts'
export { messagesStream } from './anthropic-stream.ts'

/**
 * A tool: a custom one (no `type`, or `custom`) is offered with its `input_schema`; one with another
 * `type` (web_search_*, bash_*, text_editor_*, code_execution_*...) runs on Anthropic's servers, so
 * no peer can run it. `cache_control` and `strict` are accepted (the engine's calls follow the schema).
 */
const isCustom = (t: { type?: string | null }) => t.type == null || t.type === 'custom'
const ToolSchema = z
  .object({
    type: z.string().nullish(),
    name: z.string().min(1).nullish(),
    description: z.string().nullish(),
    input_schema: z.record(z.string(), z.json()).nullish(),
    defer_loading: z.boolean().nullish(),
    input_examples: z.array(z.unknown()).nullish(),
  })
  .refine((t) => !isCustom(t) || typeof t.name === 'string', {
    message: 'a tool needs a name',
    path: ['name'],
  })
type Tool = z.output<typeof ToolSchema>

/** Ripple's engine makes one call at a time: `disable_parallel_tool_use` holds whatever its value. */
const ToolChoiceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto') }),
  z.object({ type: z.literal('any') }),
  z.object({ type: z.literal('none') }),
  z.object({ type: z.literal('tool'), name: z.string().min(1) }),
])

/** `omitted` (and `updates`, whose reasoning blocks stay empty) sends thinking blocks with no text. */
const DisplaySchema = z.string().nullish()
const ThinkingSchema = z.preprocess(
  otherThan(['enabled', 'adaptive', 'disabled']),
  z.discriminatedUnion('type', [
    z.object({
      type: z.literal('enabled'),
      budget_tokens: MaxTokensSchema.or(z.literal(0)),
      display: DisplaySchema,
    }),
    z.object({ type: z.literal('adaptive'), display: DisplaySchema }),
    z.object({ type: z.literal('disabled') }),
    OtherSchema,
  ]),
)

const JsonFormatSchema = z.object({
  type: z.literal('json_schema'),
  schema: z.record(z.string(), z.json()),
})

export const MessagesRequestSchema = z.object({
  model: z.string().min(1),
  max_tokens: MaxTokensSchema,
  system: ContentSchema.nullish(),
  messages: z.array(MessageSchema).min(1),
  temperature: z.number().min(0).max(1).nullish(),
  top_p: TopPSchema.nullish(),
  stop_sequences: z.array(z.string().min(1)).max(8).nullish(),
  stream: z.boolean().nullish(),
  tools: z.array(ToolSchema).nullish(),
  tool_choice: ToolChoiceSchema.nullish(),
  thinking: ThinkingSchema.nullish(),
  output_config: z
    .object({
      effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullish(),
      format: JsonFormatSchema.nullish(),
    })
    .nullish(),
  /** Structured outputs' first beta name for `output_config.format`. */
  output_format: JsonFormatSchema.nullish(),
  context_management: z.object({ edits: z.array(z.looseObject({ type: z.string() })).nullish() }).nullish(),
  /** A message thread (the server holding the conversation between turns): read only to refuse it. */
  thread: z.looseObject({ type: z.string() }).nullish(),
  /** Not Anthropic's: Ripple's, for repeatable answers. */
  seed: SeedSchema.nullish(),
  keep_alive: KeepAliveSchema.optional(),
  ripple: RippleExtensionSchema,
})
export type MessagesRequest = z.output<typeof MessagesRequestSchema>

/** A messages request as a task, and what its answer must say beside the output. */
export interface MessagesCall extends GenerateCall {
  reply: MessagesReply
}

export function messagesCall(request: MessagesRequest): MessagesCall {
  // A thread's later turns send only their new messages: served without the rest, the answer would
  // be to another conversation. Refused with the code of Anthropic's own refusal of a thread.
  if (request.thread != null)
    throw new EndpointError(
      'invalid',
      'thread_unsupported_request',
      'Ripple keeps no message threads: send the whole conversation in messages, without thread',
      'thread',
    )
  const talk = conversation(request.system, request.messages)
  const tools = offeredTools(request.tools ?? [])
  const thinking = thinkingBudget(request)
  const edits = contextEdits(request, talk.thinkingTurns)
  const input: GenerateInput = {
    messages: talk.messages,
    max_tokens: request.max_tokens,
    ...samplingInput(request, {
      stop: request.stop_sequences?.length ? request.stop_sequences : undefined,
      reasoningBudget: thinking.budget,
    }),
    ...optional('tools', tools.offered.length > 0 ? tools.offered : undefined),
    ...optional('tool_choice', toolChoice(request.tool_choice)),
    ...optional('json_schema', (request.output_config?.format ?? request.output_format)?.schema),
  }
  const display = request.thinking && 'display' in request.thinking ? request.thinking.display : null
  const omitted = display === 'omitted' || display === 'updates'
  return {
    model: request.model,
    input,
    ...rippleOptions(request.ripple),
    stream: request.stream === true,
    reply: {
      thinking: omitted ? 'omitted' : 'shown',
      ...(edits.applied && { contextManagement: { applied_edits: edits.applied } }),
    },
    ignored: [...talk.ignored, ...tools.ignored, ...thinking.ignored, ...edits.ignored],
  }
}

/** The custom tools, as the worker takes them; the rest named. */
function offeredTools(tools: readonly Tool[]): {
  offered: NonNullable<GenerateInput['tools']>
  ignored: string[]
} {
  const ignored: string[] = []
  const offered: NonNullable<GenerateInput['tools']> = []
  for (const t of tools) {
    const name = t.name ?? t.type ?? 'unnamed'
    if (!isCustom(t) || t.input_schema == null) {
      ignored.push(
        `tool ${name} (${isCustom(t) ? 'no input_schema' : `${t.type}: a server tool no peer runs`})`,
      )
      continue
    }
    // Deferred tools wait on a tool search, a server tool left out: they are offered with the rest.
    if (t.defer_loading) ignored.push(`tool ${name}: defer_loading (offered now)`)
    if (t.input_examples?.length) ignored.push(`tool ${name}: input_examples`)
    offered.push({ name, ...optional('description', t.description), parameters: t.input_schema })
  }
  return { offered, ignored }
}

function toolChoice(choice: MessagesRequest['tool_choice']): GenerateInput['tool_choice'] {
  if (choice?.type === 'any') return 'required'
  if (choice?.type === 'tool') return { name: choice.name }
  return choice?.type
}

/** Anthropic's default effort, where a request thinks adaptively without saying one. */
const DEFAULT_EFFORT = 'high'

/**
 * The reasoning budget. `enabled` gives its own; `disabled` is 0 (thinking off where the template
 * can). `adaptive` spends the effort's share of max_tokens, as `reasoning_effort` does (high when
 * none is given, Anthropic's default); `max` takes `xhigh`'s share, so the answer always keeps the
 * rest. With no `thinking`, an effort still bounds a thinking model by its share, else the model
 * reasons its own way. Where `thinking` sets the budget, the effort (which on Anthropic's side also
 * shortens the answer, which Ripple does not do) is named as left out.
 */
function thinkingBudget(request: MessagesRequest): { budget: number | undefined; ignored: string[] } {
  const { thinking } = request
  const effort = request.output_config?.effort
  const share = (e: NonNullable<typeof effort>) => effortBudget(e === 'max' ? 'xhigh' : e, request.max_tokens)
  const unused = effort ? [`output_config.effort ${effort} (thinking sets the budget)`] : []
  if (thinking?.type === 'enabled') return { budget: thinking.budget_tokens, ignored: unused }
  if (thinking?.type === 'disabled') return { budget: 0, ignored: unused }
  if (thinking?.type === 'adaptive') return { budget: share(effort ?? DEFAULT_EFFORT), ignored: [] }
  const other = thinking?.type === 'other' ? [`thinking ${thinking.was}`] : []
  return { budget: effort ? share(effort) : undefined, ignored: other }
}

/**
 * `context_management`'s edits. `clear_thinking_20251015` is what Ripple does anyway (thinking is
 * never rendered), so it is applied, whatever its `keep`: every turn's thinking is cleared. Its
 * tokens are never rendered, so never counted: `cleared_input_tokens` is 0. Other edits (clearing
 * tool uses past a count of input tokens, compaction) need the prompt's tokens before it is
 * rendered, which Ripple does not know: not applied, so not among the applied edits, and named.
 */
function contextEdits(
  request: MessagesRequest,
  thinkingTurns: number,
): { applied?: AppliedEdit[]; ignored: string[] } {
  const edits = request.context_management?.edits
  if (request.context_management == null) return { ignored: [] }
  const applied: AppliedEdit[] = []
  const ignored: string[] = []
  for (const edit of edits ?? []) {
    if (edit.type === 'clear_thinking_20251015')
      applied.push({ type: edit.type, cleared_thinking_turns: thinkingTurns, cleared_input_tokens: 0 })
    else ignored.push(`context_management edit ${edit.type} (not applied)`)
  }
  return { applied, ignored }
}

/** count_tokens: the same request, less what only a generation has. */
export const CountTokensRequestSchema = MessagesRequestSchema.omit({ max_tokens: true, stream: true })

/**
 * The request served as a generation of one token (greedy, not streamed), whose prompt the engine
 * counts with the model's own template: no other path through the mesh tokenizes. Whether thinking
 * is on changes the prompt, so the budget stays 0 where the request's would be 0, and is 1 (within
 * the one token) where a generation's would be more.
 */
export function countTokensCall(request: z.output<typeof CountTokensRequestSchema>): MessagesCall {
  const call = messagesCall({ ...request, max_tokens: MAX_TOKENS, stream: false })
  const budget = call.input.reasoning_budget
  return {
    ...call,
    input: {
      ...call.input,
      max_tokens: 1,
      temperature: 0,
      ...optional('reasoning_budget', budget === undefined ? undefined : Math.min(budget, 1)),
    },
  }
}

/** count_tokens' answer. */
export function tokenCount(output: GenerateOutput): { input_tokens: number } {
  return { input_tokens: usage(output).prompt }
}
