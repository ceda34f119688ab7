/**
 * Anthropic's `message`: thinking (its text, or none when the request asked it omitted, signed
 * either way), text and tool_use blocks, the stop reason, usage as llama-server gives it (input
 * tokens less those read from the engine's cache, which are counted apart), and the context
 * management applied when the request asked for it. Pure.
 */
import { answerText, type GenerateInput, type GenerateOutput, toolCallId, usage } from './generation.ts'
import type { TaskIdentity } from './serve-task.ts'

export interface AppliedEdit {
  type: 'clear_thinking_20251015'
  cleared_thinking_turns: number
  cleared_input_tokens: number
}

/** What the answer says beside the output, as the request asked. */
export interface MessagesReply {
  /** Thinking blocks with their text (`summarized`, the default), or with none (`omitted`). */
  thinking: 'shown' | 'omitted'
  /** Present when the request asked for context management. */
  contextManagement?: { applied_edits: AppliedEdit[] }
}

export const SHOWN: MessagesReply = { thinking: 'shown' }

type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use'

export function stopReason(output: GenerateOutput, stops: readonly string[] | undefined): StopReason {
  if (output.tool_calls.length > 0) return 'tool_use'
  if (output.stop_reason === 'max_tokens') return 'max_tokens'
  return output.stop_reason === 'stop_trigger' && stops?.length ? 'stop_sequence' : 'end_turn'
}

export const messageId = (task: string) => `msg_${task.slice(-24).replace(/[^A-Za-z0-9]/g, '')}`

/** The signature names the signed record the thinking was served in. */
export const signature = (id: TaskIdentity) => id.task

/** The answer's blocks: its text (when there is text, nothing else, or asked for), then each call. */
export function answerBlocks(id: TaskIdentity, output: GenerateOutput, withText = false) {
  const text = answerText(output)
  const uses = output.tool_calls.map((c, i) => ({
    type: 'tool_use' as const,
    id: toolCallId('toolu_', id.task, i),
    name: c.name,
    input: JSON.parse(c.arguments) as Record<string, unknown>,
  }))
  return [...(withText || text !== '' || uses.length === 0 ? [{ type: 'text' as const, text }] : []), ...uses]
}

/** Usage as Anthropic (and llama-server) count it: `input_tokens` are those not read from the cache. */
export function anthropicUsage(output: GenerateOutput) {
  const { prompt, completion } = usage(output)
  const cached = output.timings.cached_tokens
  return {
    input_tokens: prompt - cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: completion,
  }
}

/** `context_management` on the answer, when asked for. */
export function contextManagement(reply: MessagesReply) {
  return reply.contextManagement ? { context_management: reply.contextManagement } : {}
}

export function anthropicMessage(
  id: TaskIdentity,
  input: GenerateInput,
  output: GenerateOutput,
  reply: MessagesReply = SHOWN,
) {
  const thinking = reply.thinking === 'omitted' ? '' : output.reasoning
  return {
    id: messageId(id.task),
    type: 'message' as const,
    role: 'assistant' as const,
    model: id.model,
    content: [
      ...(output.reasoning !== '' ? [{ type: 'thinking' as const, thinking, signature: signature(id) }] : []),
      ...answerBlocks(id, output),
    ],
    stop_reason: stopReason(output, input.stop),
    stop_sequence: null,
    usage: anthropicUsage(output),
    ...contextManagement(reply),
  }
}
