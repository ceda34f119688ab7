/**
 * Reads llama-server's streamed answers (server-sent events) into text, reasoning, tool calls and
 * timings, handing text and reasoning on as they come. `/completion` sends `{content, stop, stop_type,
 * timings}` objects; the chat endpoint sends OpenAI chunks (`delta.content`, `delta.reasoning_content`
 * with `reasoning_format: deepseek`, `delta.tool_calls`, each with the timings so far) and a last one
 * with usage and timings. An `{error}` event (a grammar that failed, output that does not fit the
 * model's tool-call format) ends the stream with an EngineRequestError.
 */
import { readEvents } from '../../text/event-stream.ts'
import type { GenerateOptions, ToolCall } from '../generate.ts'

/** Where text and reasoning go as they come. */
export type Sinks = Pick<GenerateOptions, 'onText' | 'onReasoning'>

/** An error llama-server answered with, under its own type (`invalid_request_error`, `server_error`...). */
export class EngineRequestError extends Error {
  static override readonly name: string = 'EngineRequestError'
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message)
    this.name = 'EngineRequestError'
  }
}

/** llama-server's error type for it, with `n_prompt_tokens` and `n_ctx` beside the message. */
const CONTEXT_OVERFLOW = 'exceed_context_size_error'

/** llama-server refused a prompt longer than a slot's context: the request's fault, not the engine's. */
export class ContextOverflowError extends EngineRequestError {
  static override readonly name = 'ContextOverflowError'
  constructor(
    readonly promptTokens: number,
    readonly contextTokens: number,
  ) {
    super(
      400,
      CONTEXT_OVERFLOW,
      `the prompt is ${promptTokens} tokens, over the ${contextTokens}-token context the model has here ` +
        '(prompt and answer share it): shorten it',
    )
    this.name = 'ContextOverflowError'
  }
}

/** The connection to llama-server broke mid-answer (it crashed, or was stopped). */
export class EngineConnectionError extends Error {
  static override readonly name = 'EngineConnectionError'
  constructor(cause: unknown) {
    const why = (cause as Error).message
    const under = ((cause as Error).cause as Error | undefined)?.message
    super(`the connection to llama-server broke: ${why}${under ? ` (${under})` : ''}`, { cause })
    this.name = 'EngineConnectionError'
  }
}

export interface FoldedAnswer {
  text: string
  reasoning: string
  toolCalls: ToolCall[]
  /** llama-server's words: `eos`, `limit` (max tokens), `word` (a stop string), `tool_calls`. */
  stopType: string
  promptTokens: number
  generatedTokens: number
  /**
   * Of those, the ones spent reasoning: up to its last piece (llama-server counts the tokens with each
   * chunk), or all of them when the output ended inside it.
   */
  reasoningTokens: number
  /** Prompt tokens reused from the cache. */
  cachedTokens: number
  /** The engine's decode rate (tokens/s), when it generated more than one token. */
  decodeRate: number | null
  /** performance.now() when the first text (reasoning, or call) arrived; null when none did. */
  firstOutputAt: number | null
}

interface Timings {
  cache_n?: number
  prompt_n?: number
  predicted_n?: number
  predicted_per_second?: number
}

type WireError = {
  error?: { code?: number; type?: string; message?: string; n_prompt_tokens?: number; n_ctx?: number }
}

export async function foldCompletion(body: AsyncIterable<Uint8Array>, sinks: Sinks): Promise<FoldedAnswer> {
  const answer = emptyAnswer()
  for await (const { data } of readEvents(body, (err) => new EngineConnectionError(err))) {
    const event = parse(data) as WireError & {
      content?: string
      stop?: boolean
      stop_type?: string
      tokens_predicted?: number
      tokens_evaluated?: number
      timings?: Timings
    }
    throwIfError(event)
    if (event.content) addText(answer, event.content, sinks)
    if (event.stop) {
      answer.stopType = event.stop_type ?? 'eos'
      answer.generatedTokens = event.tokens_predicted ?? 0
      answer.promptTokens = event.tokens_evaluated ?? 0
      addTimings(answer, event.timings)
    }
  }
  return answer
}

export async function foldChat(body: AsyncIterable<Uint8Array>, sinks: Sinks): Promise<FoldedAnswer> {
  const answer = emptyAnswer()
  const calls: { name: string; arguments: string }[] = []
  let native: string | null = null
  let reasonedUpTo = 0
  for await (const { data } of readEvents(body, (err) => new EngineConnectionError(err))) {
    // Read to its end, so the connection is kept for the next request.
    if (data === '[DONE]') continue
    const chunk = parse(data) as WireError & {
      choices?: {
        delta?: {
          content?: string | null
          reasoning_content?: string | null
          tool_calls?: { index?: number; function?: { name?: string; arguments?: string } }[]
        }
        finish_reason?: string | null
      }[]
      usage?: { prompt_tokens?: number; completion_tokens?: number }
      timings?: Timings
      __verbose?: { stop?: boolean; stop_type?: string }
    }
    throwIfError(chunk)
    if (chunk.__verbose?.stop && chunk.__verbose.stop_type) native = chunk.__verbose.stop_type
    const choice = chunk.choices?.[0]
    if (choice?.delta?.reasoning_content) {
      addReasoning(answer, choice.delta.reasoning_content, sinks)
      reasonedUpTo = chunk.timings?.predicted_n ?? reasonedUpTo
    }
    if (choice?.delta?.content) addText(answer, choice.delta.content, sinks)
    for (const delta of choice?.delta?.tool_calls ?? []) {
      answer.firstOutputAt ??= performance.now()
      const index = delta.index ?? 0
      const call = calls[index] ?? { name: '', arguments: '' }
      calls[index] = call
      call.name += delta.function?.name ?? ''
      call.arguments += delta.function?.arguments ?? ''
    }
    if (choice?.finish_reason)
      answer.stopType = native ?? (choice.finish_reason === 'length' ? 'limit' : 'eos')
    if (chunk.usage) {
      answer.promptTokens = chunk.usage.prompt_tokens ?? 0
      answer.generatedTokens = chunk.usage.completion_tokens ?? 0
      addTimings(answer, chunk.timings)
    }
  }
  answer.toolCalls = calls.filter((c) => c.name !== '')
  if (answer.toolCalls.length > 0) answer.stopType = 'tool_calls'
  const answered = answer.text !== '' || answer.toolCalls.length > 0
  if (answer.reasoning !== '') answer.reasoningTokens = answered ? reasonedUpTo : answer.generatedTokens
  return answer
}

/** llama-server's answer to a request it refused (HTTP status and its error object). */
export async function refusal(response: {
  status: number
  json(): Promise<unknown>
}): Promise<EngineRequestError> {
  const body = (await response.json().catch(() => ({}))) as WireError
  return engineError(body.error ?? {}, response.status, `llama-server answered HTTP ${response.status}`)
}

function engineError(
  error: NonNullable<WireError['error']>,
  status: number,
  fallback: string,
): EngineRequestError {
  const { type, n_prompt_tokens: prompt, n_ctx: context } = error
  if (type === CONTEXT_OVERFLOW && typeof prompt === 'number' && typeof context === 'number')
    return new ContextOverflowError(prompt, context)
  return new EngineRequestError(status, type ?? 'server_error', error.message ?? fallback)
}

function emptyAnswer(): FoldedAnswer {
  return {
    text: '',
    reasoning: '',
    toolCalls: [],
    stopType: 'none',
    promptTokens: 0,
    generatedTokens: 0,
    reasoningTokens: 0,
    cachedTokens: 0,
    decodeRate: null,
    firstOutputAt: null,
  }
}

function addText(answer: FoldedAnswer, text: string, sinks: Sinks): void {
  answer.firstOutputAt ??= performance.now()
  answer.text += text
  sinks.onText?.(text)
}

function addReasoning(answer: FoldedAnswer, text: string, sinks: Sinks): void {
  answer.firstOutputAt ??= performance.now()
  answer.reasoning += text
  sinks.onReasoning?.(text)
}

function addTimings(answer: FoldedAnswer, timings: Timings | undefined): void {
  if (!timings) return
  answer.cachedTokens = timings.cache_n ?? 0
  if ((timings.predicted_n ?? 0) > 1 && timings.predicted_per_second)
    answer.decodeRate = Math.round(timings.predicted_per_second * 10) / 10
}

function throwIfError(event: WireError): void {
  if (event.error) throw engineError(event.error, event.error.code ?? 500, 'llama-server failed the request')
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data)
  } catch {
    throw new EngineRequestError(
      502,
      'server_error',
      `llama-server sent an event that is not JSON: ${data.slice(0, 120)}`,
    )
  }
}
