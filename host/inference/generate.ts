/**
 * Text generation on a loaded model: a raw prompt (LlamaCompletion) or chat messages (LlamaChat,
 * with the model's chat template and its function calling), greedy when the temperature is 0,
 * seeded sampling otherwise, optionally constrained by a JSON schema or a GBNF grammar, or forced to
 * call a tool (a grammar over the tool's parameter schema). Text is handed to `onText` as it is
 * produced; token counts, timings and tool calls come back with the text.
 */
import { performance } from 'node:perf_hooks'
import type { ChatModelFunctions, LlamaContextSequence, LlamaGrammar, Token } from 'node-llama-cpp'
import type { LoadedModel } from './loaded-model.ts'
import {
  type ChatMessage,
  chatHistory,
  forcedCall,
  type Tool,
  type ToolCall,
  type ToolChoice,
} from './tool-calls.ts'

export {
  type ChatMessage,
  InvalidMessagesError,
  type Tool,
  type ToolCall,
  type ToolChoice,
} from './tool-calls.ts'

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
}

export type StopReason = 'eos' | 'max_tokens' | 'stop_trigger' | 'abort' | 'tool_calls'

export interface GenerateResult {
  text: string
  /** The parsed output when a JSON schema was given and the output is complete; else null. */
  json: unknown
  /** The calls the model made (arguments as JSON text); empty when it answered in text. */
  tool_calls: ToolCall[]
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

/** Thrown when a JSON schema, a tool's parameters or a GBNF grammar cannot be turned into a grammar. */
export class InvalidGrammarError extends Error {
  static override readonly name = 'InvalidGrammarError'
  constructor(kind: 'json_schema' | 'grammar' | 'tools', cause: unknown) {
    const what = { json_schema: 'JSON schema', grammar: 'GBNF grammar', tools: 'tool parameters' }[kind]
    super(`invalid ${what}: ${(cause as Error).message}`, { cause })
    this.name = 'InvalidGrammarError'
  }
}

const STOP_REASONS: Record<string, StopReason> = {
  eogToken: 'eos',
  maxTokens: 'max_tokens',
  stopGenerationTrigger: 'stop_trigger',
  customStopTrigger: 'stop_trigger',
  abort: 'abort',
  functionCalls: 'tool_calls',
}

export async function generate(
  loaded: LoadedModel,
  request: GenerateRequest,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const { grammar, parse, forced } = await createGrammar(loaded, request)
  const signal = AbortSignal.any([loaded.signal, ...(options.signal ? [options.signal] : [])])
  return loaded.withSequence(async (sequence) => {
    const startedAt = performance.now()
    let firstTokenAt: number | null = null
    const sampling: Sampling = {
      maxTokens: request.max_tokens,
      temperature: request.temperature,
      seed: request.seed,
      ...(request.top_p === undefined ? {} : { topP: request.top_p }),
      ...(request.stop?.length ? { customStopTriggers: request.stop } : {}),
      grammar,
      signal,
      onToken: () => {
        firstTokenAt ??= performance.now()
      },
      onTextChunk: options.onText,
    }
    const { text, stopReason, calls } = await run(sequence, request, sampling, forced === undefined)
    const finishedAt = performance.now()
    // Counted by the (fresh) sequence's token meter, not by onToken, which holds back a token that
    // ends inside a UTF-8 character (and drops it when generation stops there). The meter books the
    // last prompt token, evaluated in the step that samples the first new token, as output: its
    // output count is the number of tokens generated, its input count one less than the prompt's.
    const { usedInputTokens, usedOutputTokens: generated } = sequence.tokenMeter
    const decodeMs = firstTokenAt === null ? 0 : finishedAt - firstTokenAt
    // An output cut by max_tokens is incomplete JSON.
    const json = parse && stopReason !== 'maxTokens' ? parse(text) : null
    const toolCalls = forced ? forced(json, text) : calls
    return {
      text,
      json: forced ? null : json,
      tool_calls: toolCalls,
      stop_reason: toolCalls.length > 0 ? 'tool_calls' : (STOP_REASONS[stopReason] ?? 'eos'),
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
  topP?: number
  customStopTriggers?: string[]
  grammar: LlamaGrammar | undefined
  signal: AbortSignal
  onToken: (tokens: Token[]) => void
  onTextChunk: ((text: string) => void) | undefined
}

async function run(
  sequence: LlamaContextSequence,
  request: GenerateRequest,
  sampling: Sampling,
  modelMayCall: boolean,
): Promise<{ text: string; stopReason: string; calls: ToolCall[] }> {
  const { LlamaChat, LlamaCompletion } = await import('node-llama-cpp')
  if (request.messages) {
    const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false })
    try {
      const functions =
        modelMayCall && request.tool_choice !== 'none' ? chatFunctions(request.tools) : undefined
      const history = chatHistory(request.messages)
      // LlamaChat takes a grammar or functions, never both; a forced call has its grammar.
      const result = functions
        ? await chat.generateResponse(history, { ...sampling, grammar: undefined, functions })
        : await chat.generateResponse(history, sampling)
      const calls = (result.functionCalls ?? []).map((c) => ({
        name: c.functionName,
        arguments: JSON.stringify(c.params ?? {}),
      }))
      return { text: result.response, stopReason: result.metadata.stopReason, calls }
    } finally {
      chat.dispose({ disposeSequence: false })
    }
  }
  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false })
  try {
    const result = await completion.generateCompletionWithMeta(request.prompt ?? '', sampling)
    return { text: result.response, stopReason: result.metadata.stopReason, calls: [] }
  } finally {
    completion.dispose({ disposeSequence: false })
  }
}

function chatFunctions(tools: readonly Tool[] | undefined): ChatModelFunctions | undefined {
  if (!tools?.length) return undefined
  return Object.fromEntries(
    tools.map((t) => [
      t.name,
      { ...(t.description ? { description: t.description } : {}), params: t.parameters as never },
    ]),
  )
}

interface Constraint {
  grammar: LlamaGrammar | undefined
  /** The output as JSON (null when it does not parse); with a JSON schema or a forced call. */
  parse: ((text: string) => unknown) | undefined
  /** With a forced tool call: the call(s) read from the parsed output. */
  forced: ((json: unknown, text: string) => ToolCall[]) | undefined
}

async function createGrammar(loaded: LoadedModel, request: GenerateRequest): Promise<Constraint> {
  const call = request.messages ? forcedCall(request.tools ?? [], request.tool_choice) : null
  const schema = call?.schema ?? request.json_schema
  if (schema !== undefined) {
    let grammar: LlamaGrammar
    let schemaGrammar: LlamaGrammar & { parse(text: string): unknown }
    try {
      // The schema comes from a task at run time; node-llama-cpp checks it, not the type system.
      schemaGrammar = await loaded.llama.createGrammarForJsonSchema(schema as never)
      // node-llama-cpp's numbers take exponents of up to 16 digits: a weak model writes 1e3477777777534440,
      // which parses to Infinity and fails the schema. Without exponents every number it writes is finite.
      grammar = await loaded.llama.createGrammar({
        grammar: schemaGrammar.grammar.replaceAll(NUMBER_EXPONENT, ''),
        stopGenerationTriggers: [...schemaGrammar.stopGenerationTriggers],
        trimWhitespaceSuffix: schemaGrammar.trimWhitespaceSuffix,
      })
    } catch (err) {
      throw new InvalidGrammarError(call ? 'tools' : 'json_schema', err)
    }
    const parse = (text: string) => {
      try {
        return schemaGrammar.parse(text)
      } catch {
        return null
      }
    }
    return { grammar, parse, forced: call?.read }
  }
  if (request.grammar !== undefined) {
    try {
      const grammar = await loaded.llama.createGrammar({ grammar: request.grammar })
      return { grammar, parse: undefined, forced: undefined }
    } catch (err) {
      throw new InvalidGrammarError('grammar', err)
    }
  }
  return { grammar: undefined, parse: undefined, forced: undefined }
}

/** The exponent part of node-llama-cpp's JSON number rule (utils/gbnfJson/terminals/GbnfNumber.js). */
const NUMBER_EXPONENT = ' ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?'

const round = (n: number) => Math.round(n * 10) / 10
