/**
 * Anthropic's Messages API (`POST /v1/messages`), translated: `system`, text / tool_use / tool_result
 * blocks, `tool_choice` (auto, any, tool, none) and `thinking` (its budget) into an `infer.generate`
 * input; the output into a `message` with thinking, text and tool_use blocks; a stream into
 * Anthropic's events (`message_start`, `content_block_*` with `thinking_delta`, text or
 * `input_json_delta`, each block opened as its first piece comes, `message_delta`, `message_stop`).
 * Thinking blocks sent back in a conversation are dropped: templates render only the answers. Pure.
 */
import { z } from 'zod'
import type { ChatMessage } from '../../inference/tool-calls.ts'
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
  TopPSchema,
  toolCallId,
  usage,
} from './generation.ts'
import { AnthropicImageBlockSchema, anthropicImageUrl, userMessage } from './image-parts.ts'
import type { SseEvent, StreamRenderer, TaskIdentity } from './serve-task.ts'

const TextBlockSchema = z.object({ type: z.literal('text'), text: z.string() })
const ToolUseBlockSchema = z.object({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.json()),
})
const ToolResultBlockSchema = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(TextBlockSchema)]).optional(),
  is_error: z.boolean().optional(),
})
const ThinkingBlockSchema = z.object({ type: z.enum(['thinking', 'redacted_thinking']) })
const BlockSchema = z.discriminatedUnion('type', [
  TextBlockSchema,
  ToolUseBlockSchema,
  ToolResultBlockSchema,
  AnthropicImageBlockSchema,
  ThinkingBlockSchema,
])

export const MessagesRequestSchema = z.object({
  model: z.string().min(1),
  max_tokens: MaxTokensSchema,
  system: z.union([z.string(), z.array(TextBlockSchema)]).nullish(),
  messages: z
    .array(
      z.object({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(BlockSchema)]) }),
    )
    .min(1),
  temperature: z.number().min(0).max(1).nullish(),
  top_p: TopPSchema.nullish(),
  top_k: z.number().int().min(1).nullish(),
  stop_sequences: z.array(z.string().min(1)).max(8).nullish(),
  stream: z.boolean().nullish(),
  tools: z
    .array(
      z.object({
        name: z.string().min(1),
        description: z.string().nullish(),
        input_schema: z.record(z.string(), z.json()),
      }),
    )
    .nullish(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('auto') }),
      z.object({ type: z.literal('any') }),
      z.object({ type: z.literal('none') }),
      z.object({ type: z.literal('tool'), name: z.string().min(1) }),
    ])
    .nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  /** A thinking model's budget; `disabled` (or a budget of 0) turns thinking off where the template can. */
  thinking: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('enabled'), budget_tokens: MaxTokensSchema.or(z.literal(0)) }),
      z.object({ type: z.enum(['disabled', 'adaptive']) }),
    ])
    .nullish(),
  /** Not Anthropic's: Ripple's, for repeatable answers. */
  seed: SeedSchema.nullish(),
  keep_alive: KeepAliveSchema.optional(),
  ripple: RippleExtensionSchema,
})
export type MessagesRequest = z.infer<typeof MessagesRequestSchema>

const textOf = (content: string | { text: string }[] | undefined) =>
  typeof content === 'string' ? content : (content ?? []).map((b) => b.text).join('')

export function messagesCall(request: MessagesRequest): GenerateCall {
  const messages: ChatMessage[] = request.system ? [{ role: 'system', content: textOf(request.system) }] : []
  for (const m of request.messages) {
    const blocks = typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : m.content
    if (m.role === 'assistant') {
      const calls = blocks.flatMap((b) =>
        b.type === 'tool_use' ? [{ id: b.id, name: b.name, arguments: JSON.stringify(b.input) }] : [],
      )
      const text = blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('')
      messages.push({ role: 'assistant', content: text, ...(calls.length > 0 ? { tool_calls: calls } : {}) })
      continue
    }
    // A user turn: its tool results answer the calls before it, then its text is the user's.
    for (const b of blocks) {
      if (b.type === 'tool_result') {
        const text = textOf(b.content)
        messages.push({
          role: 'tool',
          content: b.is_error ? `error: ${text}` : text,
          tool_call_id: b.tool_use_id,
        })
      }
    }
    const text = blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('')
    const images = blocks.flatMap((b) => (b.type === 'image' ? [anthropicImageUrl(b)] : []))
    if (text !== '' || images.length > 0 || !blocks.some((b) => b.type === 'tool_result'))
      messages.push(userMessage(text, images))
  }
  const input: GenerateInput = {
    messages,
    max_tokens: request.max_tokens,
    // Anthropic's temperatures run 0..1 with 1 the default, like the worker's scale up to 1.
    temperature: request.temperature ?? 1,
    ...optional('top_p', request.top_p),
    ...optional('seed', request.seed),
    ...optional('keep_alive_ms', request.keep_alive),
    ...optional('stop', request.stop_sequences?.length ? request.stop_sequences : undefined),
    ...optional(
      'tools',
      request.tools?.map((t) => ({
        name: t.name,
        ...optional('description', t.description),
        parameters: t.input_schema,
      })),
    ),
    ...optional('tool_choice', toolChoice(request.tool_choice)),
    ...optional('reasoning_budget', thinkingBudget(request.thinking)),
  }
  return {
    model: request.model,
    input,
    ...rippleOptions(request.ripple),
    stream: request.stream === true,
  }
}

function thinkingBudget(thinking: MessagesRequest['thinking']): number | undefined {
  if (thinking?.type === 'enabled') return thinking.budget_tokens
  return thinking?.type === 'disabled' ? 0 : undefined
}

function toolChoice(choice: MessagesRequest['tool_choice']): GenerateInput['tool_choice'] {
  if (choice?.type === 'any') return 'required'
  if (choice?.type === 'tool') return { name: choice.name }
  return choice?.type
}

type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use'

function stopReason(output: GenerateOutput, stops: readonly string[] | undefined): StopReason {
  if (output.tool_calls.length > 0) return 'tool_use'
  if (output.stop_reason === 'max_tokens') return 'max_tokens'
  return output.stop_reason === 'stop_trigger' && stops?.length ? 'stop_sequence' : 'end_turn'
}

const messageId = (task: string) => `msg_${task.slice(-24).replace(/[^A-Za-z0-9]/g, '')}`

function thinkingBlock(id: TaskIdentity, thinking: string) {
  // The signature names the signed record the thinking was served in.
  return { type: 'thinking' as const, thinking, signature: id.task }
}

/** The answer's blocks: its text (when there is text, nothing else, or asked for), then each call. */
function answerBlocks(id: TaskIdentity, output: GenerateOutput, withText = false) {
  const text = answerText(output)
  const uses = output.tool_calls.map((c, i) => ({
    type: 'tool_use' as const,
    id: toolCallId('toolu_', id.task, i),
    name: c.name,
    input: JSON.parse(c.arguments) as Record<string, unknown>,
  }))
  return [...(withText || text !== '' || uses.length === 0 ? [{ type: 'text' as const, text }] : []), ...uses]
}

export function anthropicMessage(id: TaskIdentity, input: GenerateInput, output: GenerateOutput) {
  const u = usage(output)
  return {
    id: messageId(id.task),
    type: 'message' as const,
    role: 'assistant' as const,
    model: id.model,
    content: [
      ...(output.reasoning !== '' ? [thinkingBlock(id, output.reasoning)] : []),
      ...answerBlocks(id, output),
    ],
    stop_reason: stopReason(output, input.stop),
    stop_sequence: null,
    usage: { input_tokens: u.prompt, output_tokens: u.completion },
  }
}

export function messagesStream(
  id: TaskIdentity,
  input: GenerateInput,
  errorBody: (err: Error) => unknown,
): StreamRenderer {
  const mode = streamMode(input)
  const event = (type: string, data: Record<string, unknown>): SseEvent => ({
    event: type,
    data: { type, ...data },
  })
  let index = -1
  /** The open block: `thinking`, `text`, or a call's id. */
  let open: string | null = null
  let reasoned = 0
  let streamed = false
  const close = (): SseEvent[] => {
    if (open === null) return []
    const signature =
      open === 'thinking'
        ? [event('content_block_delta', { index, delta: { type: 'signature_delta', signature: id.task } })]
        : []
    open = null
    return [...signature, event('content_block_stop', { index })]
  }
  /** Opens the block of this kind unless it is the one open (closing that one first). */
  const ensure = (kind: string, block: Record<string, unknown>): SseEvent[] => {
    if (open === kind) return []
    const closing = close()
    open = kind
    return [...closing, event('content_block_start', { index: ++index, content_block: block })]
  }
  const thinking = (t: string) => {
    reasoned += t.length
    return [
      ...ensure('thinking', { type: 'thinking', thinking: '', signature: '' }),
      event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: t } }),
    ]
  }
  const text = (t: string) => [
    ...ensure('text', { type: 'text', text: '' }),
    ...(t === '' ? [] : [event('content_block_delta', { index, delta: { type: 'text_delta', text: t } })]),
  ]
  const call = (block: { id: string; name: string }, json: string) => [
    ...ensure(block.id, { type: 'tool_use', ...block, input: {} }),
    event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: json } }),
  ]
  return {
    start: () => [
      event('message_start', {
        message: {
          id: messageId(id.task),
          type: 'message',
          role: 'assistant',
          model: id.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      }),
    ],
    reasoning: (t) => (t === '' ? [] : thinking(t)),
    token: (t) => {
      if (t === '' || mode.kind === 'buffered') return []
      streamed = true
      if (mode.kind === 'text') return text(t)
      return call({ id: toolCallId('toolu_', id.task, 0), name: mode.name }, t)
    },
    finish: (output) => {
      const o = output as GenerateOutput
      const unsent = o.reasoning.slice(reasoned)
      const events: SseEvent[] = unsent === '' ? [] : thinking(unsent)
      // What streamed is the answer's first block (its text, or the forced call's arguments).
      answerBlocks(id, o, mode.kind === 'text').forEach((block, i) => {
        if (i === 0 && streamed) return
        if (block.type === 'text')
          events.push(...(block.text === '' ? text('').slice(0, 1) : text(block.text)))
        else events.push(...call(block, JSON.stringify(block.input)))
      })
      events.push(
        ...close(),
        event('message_delta', {
          delta: { stop_reason: stopReason(o, input.stop), stop_sequence: null },
          usage: { output_tokens: usage(o).completion },
        }),
        event('message_stop', {}),
      )
      return events
    },
    error: (err) => [event('error', { error: (errorBody(err) as { error: object }).error })],
  }
}
