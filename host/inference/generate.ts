/**
 * What a generation takes and gives back, whichever engine runs it: a raw prompt or chat messages
 * (the model's own chat template), greedy when the temperature is 0, seeded sampling otherwise,
 * optionally constrained by a JSON schema or a GBNF grammar, or forced to call a tool. Text and a
 * thinking model's reasoning are handed on as they are produced, as the run's own `token` and
 * `reasoning` events (interface/run-event.ts); token counts, timings and tool calls come back with the text.
 */
export {
  type ChatMessage,
  InvalidMessagesError,
  type Tool,
  type ToolCall,
  type ToolChoice,
} from './tool-calls.ts'

import type { OutputEvent } from '../interface/run-event.ts'
import type { SlotYield } from '../interface/slot-yield.ts'
import type { ChatMessage, Tool, ToolCall, ToolChoice } from './tool-calls.ts'

export interface GenerateRequest {
  /** Exactly one of `prompt` and `messages`. */
  prompt?: string
  /** The last message is the user's turn to answer. */
  messages?: ChatMessage[]
  max_tokens: number
  /** 0: greedy. */
  temperature: number
  seed: number
  json_schema?: unknown
  /** GBNF. */
  grammar?: string
  /** Nucleus sampling; absent: off. */
  top_p?: number
  /** Generation stops before any of these texts. */
  stop?: string[]
  /** Functions the model may call (chat only). */
  tools?: Tool[]
  /** Default `auto` (the model's own function calling); `required` or a name forces a call by grammar. */
  tool_choice?: ToolChoice
  /**
   * Tokens the model may spend reasoning before its answer, where its template thinks; 0 turns
   * thinking off (`enable_thinking`). Absent: the model's own way, except under a JSON schema or a
   * forced call, where half of `max_tokens` is kept for the answer.
   */
  reasoning_budget?: number
}

export type StopReason = 'eos' | 'max_tokens' | 'stop_trigger' | 'abort' | 'tool_calls'

export interface GenerateResult {
  /** The answer, without the reasoning. */
  text: string
  /** What the model thought before answering, apart from the answer ('' when it did not). */
  reasoning: string
  /** The parsed output when a JSON schema was given and the output is complete; else null. */
  json: unknown
  /** The calls the model made (arguments as JSON text); empty when it answered in text. */
  tool_calls: ToolCall[]
  stop_reason: StopReason
  prompt_tokens: number
  generated_tokens: number
  /** Of the generated tokens, those spent reasoning (0 when the model did not). */
  reasoning_tokens: number
  /** Prompt evaluation and the first token. */
  time_to_first_token_ms: number
  total_ms: number
  /** Generated tokens per second after the first one (the decode rate). */
  tokens_per_second: number | null
  /** Prompt tokens taken from the engine's cache of earlier requests (prompt reuse). */
  cached_tokens: number
}

export interface GenerateOptions {
  signal?: AbortSignal
  /** The answer's text and its reasoning (before the text) as they are produced. */
  onEvent?: (event: OutputEvent) => void
  /**
   * The runner may park it for a higher band's request (a plain generation: no tools, schema,
   * grammar, images or thinking template), then resume it where it stopped.
   */
  yielding?: SlotYield
}

/**
 * The request with `max_tokens` clamped to the context (output past it cannot be), its reasoning
 * budget keeping its share of `max_tokens`.
 */
export function withinContext(request: GenerateRequest, contextSize: number): GenerateRequest {
  if (request.max_tokens <= contextSize) return request
  const budget = request.reasoning_budget
  return {
    ...request,
    max_tokens: contextSize,
    ...(budget === undefined
      ? {}
      : { reasoning_budget: Math.floor((budget * contextSize) / request.max_tokens) }),
  }
}

/**
 * The most tokens an answer can take: `max_tokens`, or what the context leaves after the prompt where
 * that is less (llama-server ends the output where the context is full, as max_tokens would).
 */
export function outputRoom(maxTokens: number, contextSize: number, promptTokens: number): number {
  return Math.max(0, Math.min(maxTokens, contextSize - promptTokens))
}

/** Thrown when a JSON schema, a tool's parameters or a GBNF grammar cannot be turned into a grammar. */
export class InvalidGrammarError extends Error {
  static override readonly name = 'InvalidGrammarError'
  constructor(
    /** The input field it came from. */
    readonly kind: 'json_schema' | 'grammar' | 'tools',
    cause: unknown,
  ) {
    const what = { json_schema: 'JSON schema', grammar: 'GBNF grammar', tools: 'tool parameters' }[kind]
    super(`invalid ${what}: ${(cause as Error).message}`, { cause })
    this.name = 'InvalidGrammarError'
  }
}
