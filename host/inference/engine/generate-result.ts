/** A folded llama-server answer as a generation's result: why it stopped, its counts and timings. */
import type { GenerateResult, StopReason } from '../generate.ts'
import type { FoldedAnswer } from './server-stream.ts'

const STOP_TYPES: Record<string, StopReason> = {
  eos: 'eos',
  limit: 'max_tokens',
  word: 'stop_trigger',
  tool_calls: 'tool_calls',
}

/** `calls` read from the output (a forced call) take the place of those llama.cpp parsed. */
export function generateResult(
  answer: FoldedAnswer,
  json: unknown,
  calls: GenerateResult['tool_calls'],
  startedAt: number,
  finishedAt: number,
): GenerateResult {
  const toolCalls = calls.length > 0 ? calls : answer.toolCalls
  return {
    text: answer.text,
    reasoning: answer.reasoning,
    json,
    tool_calls: toolCalls,
    stop_reason: toolCalls.length > 0 ? 'tool_calls' : (STOP_TYPES[answer.stopType] ?? 'eos'),
    prompt_tokens: answer.promptTokens,
    generated_tokens: answer.generatedTokens,
    reasoning_tokens: answer.reasoningTokens,
    time_to_first_token_ms: round((answer.firstOutputAt ?? finishedAt) - startedAt),
    total_ms: round(finishedAt - startedAt),
    tokens_per_second: answer.decodeRate,
    cached_tokens: answer.cachedTokens,
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

const round = (n: number) => Math.round(n * 10) / 10
