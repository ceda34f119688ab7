/**
 * Text generation on a loaded model: a raw prompt (LlamaCompletion) or chat messages
 * (LlamaChatSession, with the model's chat template), greedy when the temperature is 0, seeded
 * sampling otherwise, optionally constrained by a JSON schema or a GBNF grammar. Text is handed to
 * `onText` as it is produced; token counts and timings come back with the text.
 */
import { performance } from 'node:perf_hooks'
import type { ChatHistoryItem, LlamaContextSequence, LlamaGrammar, Token } from 'node-llama-cpp'
import type { LoadedModel } from './loaded-model.ts'

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

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
}

export type StopReason = 'eos' | 'max_tokens' | 'stop_trigger' | 'abort'

export interface GenerateResult {
  text: string
  /** The parsed output when a JSON schema was given and the output is complete; else null. */
  json: unknown
  stop_reason: StopReason
  prompt_tokens: number
  generated_tokens: number
  /** Prompt evaluation and the first token. */
  time_to_first_token_ms: number
  total_ms: number
  /** Generated tokens per second after the first one (the decode rate). */
  tokens_per_second: number | null
}

export interface GenerateOptions {
  signal?: AbortSignal
  onText?: (text: string) => void
}

/** Thrown when a JSON schema or GBNF grammar cannot be turned into a grammar. */
export class InvalidGrammarError extends Error {
  static override readonly name = 'InvalidGrammarError'
  constructor(kind: 'json_schema' | 'grammar', cause: unknown) {
    super(`invalid ${kind === 'json_schema' ? 'JSON schema' : 'GBNF grammar'}: ${(cause as Error).message}`, {
      cause,
    })
    this.name = 'InvalidGrammarError'
  }
}

/** Thrown when chat messages do not end with the user's turn. */
export class InvalidMessagesError extends Error {
  static override readonly name = 'InvalidMessagesError'
  constructor(message: string) {
    super(message)
    this.name = 'InvalidMessagesError'
  }
}

const STOP_REASONS: Record<string, StopReason> = {
  eogToken: 'eos',
  maxTokens: 'max_tokens',
  stopGenerationTrigger: 'stop_trigger',
  customStopTrigger: 'stop_trigger',
  abort: 'abort',
}

export async function generate(
  loaded: LoadedModel,
  request: GenerateRequest,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const { grammar, parse } = await createGrammar(loaded, request)
  const signal = AbortSignal.any([loaded.signal, ...(options.signal ? [options.signal] : [])])
  return loaded.withSequence(async (sequence) => {
    const startedAt = performance.now()
    let firstTokenAt: number | null = null
    const sampling: Sampling = {
      maxTokens: request.max_tokens,
      temperature: request.temperature,
      seed: request.seed,
      grammar,
      signal,
      onToken: () => {
        firstTokenAt ??= performance.now()
      },
      onTextChunk: options.onText,
    }
    const { text, stopReason } = await run(sequence, request, sampling)
    const finishedAt = performance.now()
    // Counted by the (fresh) sequence's token meter, not by onToken, which holds back a token that
    // ends inside a UTF-8 character (and drops it when generation stops there). The meter books the
    // last prompt token, evaluated in the step that samples the first new token, as output: its
    // output count is the number of tokens generated, its input count one less than the prompt's.
    const { usedInputTokens, usedOutputTokens: generated } = sequence.tokenMeter
    const decodeMs = firstTokenAt === null ? 0 : finishedAt - firstTokenAt
    return {
      text,
      // An output cut by max_tokens is incomplete JSON.
      json: parse && stopReason !== 'maxTokens' ? parse(text) : null,
      stop_reason: STOP_REASONS[stopReason] ?? 'eos',
      prompt_tokens: usedInputTokens + 1,
      generated_tokens: generated,
      time_to_first_token_ms: round((firstTokenAt ?? finishedAt) - startedAt),
      total_ms: round(finishedAt - startedAt),
      tokens_per_second: generated > 1 && decodeMs > 0 ? round(((generated - 1) * 1000) / decodeMs) : null,
    }
  })
}

/** The options LlamaCompletion and LlamaChatSession share. */
interface Sampling {
  maxTokens: number
  temperature: number
  seed: number
  grammar: LlamaGrammar | undefined
  signal: AbortSignal
  onToken: (tokens: Token[]) => void
  onTextChunk: ((text: string) => void) | undefined
}

async function run(
  sequence: LlamaContextSequence,
  request: GenerateRequest,
  sampling: Sampling,
): Promise<{ text: string; stopReason: string }> {
  const { LlamaChatSession, LlamaCompletion } = await import('node-llama-cpp')
  if (request.messages) {
    const { history, question } = chatHistory(request.messages)
    const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false })
    try {
      session.setChatHistory(history)
      const result = await session.promptWithMeta(question, sampling)
      return { text: result.responseText, stopReason: result.stopReason }
    } finally {
      session.dispose({ disposeSequence: false })
    }
  }
  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false })
  try {
    const result = await completion.generateCompletionWithMeta(request.prompt ?? '', sampling)
    return { text: result.response, stopReason: result.metadata.stopReason }
  } finally {
    completion.dispose({ disposeSequence: false })
  }
}

function chatHistory(messages: readonly ChatMessage[]): { history: ChatHistoryItem[]; question: string } {
  const last = messages.at(-1)
  if (last?.role !== 'user') throw new InvalidMessagesError('the last chat message must be from the user')
  const history = messages
    .slice(0, -1)
    .map(
      (m): ChatHistoryItem =>
        m.role === 'assistant' ? { type: 'model', response: [m.content] } : { type: m.role, text: m.content },
    )
  return { history, question: last.content }
}

interface Constraint {
  grammar: LlamaGrammar | undefined
  /** The output as JSON (null when it does not parse); only with a JSON schema. */
  parse: ((text: string) => unknown) | undefined
}

async function createGrammar(loaded: LoadedModel, request: GenerateRequest): Promise<Constraint> {
  if (request.json_schema !== undefined) {
    let grammar: LlamaGrammar & { parse(text: string): unknown }
    try {
      // The schema comes from a task at run time; node-llama-cpp checks it, not the type system.
      grammar = await loaded.llama.createGrammarForJsonSchema(request.json_schema as never)
    } catch (err) {
      throw new InvalidGrammarError('json_schema', err)
    }
    const parse = (text: string) => {
      try {
        return grammar.parse(text)
      } catch {
        return null
      }
    }
    return { grammar, parse }
  }
  if (request.grammar !== undefined) {
    try {
      return { grammar: await loaded.llama.createGrammar({ grammar: request.grammar }), parse: undefined }
    } catch (err) {
      throw new InvalidGrammarError('grammar', err)
    }
  }
  return { grammar: undefined, parse: undefined }
}

const round = (n: number) => Math.round(n * 10) / 10
