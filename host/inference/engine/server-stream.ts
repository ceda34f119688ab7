/**
 * Reads llama-server's streamed answers (server-sent events) into text, reasoning, tool calls and
 * timings, handing text, reasoning and the calls' pieces on as they come. `/completion` sends
 * `{content, stop, stop_type, timings}` objects; the chat endpoint sends OpenAI chunks
 * (`delta.content`, `delta.reasoning_content` with `reasoning_format: deepseek`, `delta.tool_calls`,
 * each with the timings so far) and a last one with usage and timings. An `{error}` event (a grammar
 * that failed, output that does not fit the model's tool-call format) ends the stream with an
 * EngineRequestError.
 */
import { readEvents } from '../../text/event-stream.ts'
import type { GenerateOptions, ToolCall } from '../generate.ts'

/** Where text, reasoning and calls go as they come. */
export type Sinks = Pick<GenerateOptions, 'onEvent'>

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
  /**
   * llama-server's words: `eos`, `limit` (max tokens), `word` (a stop string), `tool_calls`; or
   * `budget`: the stream was left where its reasoning went past its budget.
   */
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

/** How far a stream's reasoning may go before it is left. */
export interface ReasoningLimit {
  /** Tokens of reasoning, a share of `maxTokens`. */
  budget: number
  maxTokens: number
  /** The slot's context, which prompt and output share. */
  contextSize: number
}

/**
 * The reasoning's budget for a prompt of so many tokens: where the context leaves less than
 * `maxTokens`, the budget keeps its share of what it leaves, so the answer keeps the rest.
 */
export function reasoningLimit(limit: ReasoningLimit, promptTokens: number): number {
  const room = Math.max(0, limit.contextSize - promptTokens)
  return room >= limit.maxTokens ? limit.budget : Math.floor((limit.budget * room) / limit.maxTokens)
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

/**
 * What a `/completion` stream asked with `return_tokens` told so far: its prompt's tokens,
 * the generated tokens it named (by their place, from 1; a token held back as a character's start is
 * named by none) and how many generated tokens had their text sent (those after held back by
 * llama-server: a stop string's or a character's start).
 */
export interface CompletionTrace {
  promptTokens: number
  ids: Map<number, number>
  sent: number
}

export async function foldCompletion(
  body: AsyncIterable<Uint8Array>,
  sinks: Sinks,
  trace?: CompletionTrace,
): Promise<FoldedAnswer> {
  const answer = emptyAnswer()
  for await (const { data } of readEvents(body, (err) => new EngineConnectionError(err))) {
    const event = parse(data) as WireError & {
      content?: string
      stop?: boolean
      stop_type?: string
      tokens_predicted?: number
      tokens_evaluated?: number
      timings?: Timings
      tokens?: number[]
    }
    throwIfError(event)
    if (event.content) addText(answer, event.content, sinks)
    if (trace) {
      trace.promptTokens = event.tokens_evaluated ?? trace.promptTokens
      const at = event.tokens_predicted ?? 0
      if (event.tokens?.length === 1 && at > 0) trace.ids.set(at, event.tokens[0]!)
      if (event.content) trace.sent = at
    }
    if (event.stop) {
      answer.stopType = event.stop_type ?? 'eos'
      answer.generatedTokens = event.tokens_predicted ?? 0
      answer.promptTokens = event.tokens_evaluated ?? 0
      addTimings(answer, event.timings)
    }
  }
  return answer
}

/**
 * With a limit, a reasoning that goes on past its budget before any answer is left there (the
 * connection closed, so llama-server stops): llama.cpp's own budget matches the template's tags as
 * tokens, and a tag tokenized alone can differ from the same tag in the prompt (SentencePiece's space
 * before a text, a merge across its edge), so its budget never starts. The caller goes on after the
 * reasoning, closed.
 */
export async function foldChat(
  body: AsyncIterable<Uint8Array>,
  sinks: Sinks,
  limit: ReasoningLimit | null = null,
): Promise<FoldedAnswer> {
  const answer = emptyAnswer()
  const calls: { name: string; arguments: string }[] = []
  let native: string | null = null
  let reasonedUpTo = 0
  // Reasoning past the budget waits: shown once the answer begins (llama.cpp ended the block, late),
  // dropped where the stream is left.
  let held = { text: '', at: 0 }
  const release = () => {
    if (held.text !== '') addReasoning(answer, held.text, sinks)
    reasonedUpTo = Math.max(reasonedUpTo, held.at)
    held = { text: '', at: 0 }
  }
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
    const piece = choice?.delta?.reasoning_content
    if (piece) {
      const at = chunk.timings?.predicted_n ?? reasonedUpTo
      const unanswered = answer.text === '' && calls.length === 0
      const verdict = limit && unanswered ? budgetVerdict(limit, at, promptOf(chunk.timings)) : 'within'
      if (verdict === 'past') {
        leftAt(answer, at, chunk.timings)
        break
      }
      if (verdict === 'over') held = { text: held.text + piece, at }
      else {
        addReasoning(answer, piece, sinks)
        reasonedUpTo = at
      }
    } else if (choice?.delta?.content || choice?.delta?.tool_calls?.length || choice?.finish_reason) release()
    if (choice?.delta?.content) addText(answer, choice.delta.content, sinks)
    for (const delta of choice?.delta?.tool_calls ?? []) {
      answer.firstOutputAt ??= performance.now()
      const index = delta.index ?? 0
      const call = calls[index] ?? { name: '', arguments: '' }
      calls[index] = call
      call.name += delta.function?.name ?? ''
      const piece = delta.function?.arguments ?? ''
      call.arguments += piece
      // llama.cpp names a call whole in its first piece.
      if (call.name !== '') sinks.onEvent?.({ type: 'tool-call', index, name: call.name, arguments: piece })
    }
    if (choice?.finish_reason)
      answer.stopType = native ?? (choice.finish_reason === 'length' ? 'limit' : 'eos')
    if (chunk.usage) {
      answer.promptTokens = chunk.usage.prompt_tokens ?? 0
      answer.generatedTokens = chunk.usage.completion_tokens ?? 0
      addTimings(answer, chunk.timings)
    }
  }
  if (answer.stopType !== 'budget') release()
  answer.toolCalls = calls.filter((c) => c.name !== '')
  if (answer.toolCalls.length > 0) answer.stopType = 'tool_calls'
  const answered = answer.text !== '' || answer.toolCalls.length > 0 || answer.stopType === 'budget'
  if (answer.reasoning !== '') answer.reasoningTokens = answered ? reasonedUpTo : answer.generatedTokens
  return answer
}

/**
 * The tokens llama.cpp's own budget lets a reasoning run past it: it finishes a character it cut (a
 * byte token each, up to 4), and its parser holds back text that could begin the end tag.
 */
const REASONING_SLACK = 8

/**
 * Where a reasoning piece at `at` tokens stands: `within` the budget (or at max_tokens, where the
 * stream ends as it is), `over` it by what llama.cpp's own budget takes to end the block, or `past`
 * that (at once for a budget of 0: thinking off shows none).
 */
export function budgetVerdict(
  limit: ReasoningLimit,
  at: number,
  promptTokens: number,
): 'within' | 'over' | 'past' {
  const budget = reasoningLimit(limit, promptTokens)
  if (at <= budget || at >= limit.maxTokens) return 'within'
  return budget === 0 || at > budget + REASONING_SLACK ? 'past' : 'over'
}

const promptOf = (timings: Timings | undefined) => (timings?.prompt_n ?? 0) + (timings?.cache_n ?? 0)

/** The answer of a stream left inside its reasoning: its counts so far. */
function leftAt(answer: FoldedAnswer, generated: number, timings: Timings | undefined): void {
  answer.stopType = 'budget'
  answer.generatedTokens = generated
  answer.promptTokens = promptOf(timings)
  answer.cachedTokens = timings?.cache_n ?? 0
}

/**
 * An answer left inside its reasoning and the answer that went on after it, closed: one answer, its
 * prompt the first's, its tokens both's.
 */
export function continuedAnswer(first: FoldedAnswer, rest: FoldedAnswer): FoldedAnswer {
  return {
    ...rest,
    reasoning: first.reasoning + rest.reasoning,
    promptTokens: first.promptTokens,
    cachedTokens: first.cachedTokens,
    generatedTokens: first.generatedTokens + rest.generatedTokens,
    reasoningTokens: first.reasoningTokens + rest.reasoningTokens,
    firstOutputAt: first.firstOutputAt ?? rest.firstOutputAt,
    decodeRate: rest.decodeRate ?? first.decodeRate,
  }
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

/** An answer with nothing in it yet, as a fold begins. */
export function emptyAnswer(): FoldedAnswer {
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
  sinks.onEvent?.({ type: 'token', text })
}

function addReasoning(answer: FoldedAnswer, text: string, sinks: Sinks): void {
  answer.firstOutputAt ??= performance.now()
  answer.reasoning += text
  sinks.onEvent?.({ type: 'reasoning', text })
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
