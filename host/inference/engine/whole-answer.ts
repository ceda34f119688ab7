/**
 * Reads llama-server's answers asked for whole (`stream: false`), where nobody reads the text as it
 * comes: the same FoldedAnswer a stream folds to. Asked whole, an answer keeps its connection to the
 * server for the next request (a streamed one's is closed: engine-http.ts), and comes as one JSON
 * body, not an event per token. Only for requests without a reasoning budget to watch, on templates
 * that do not think: a whole answer carries no per-token counts, so a reasoning's share of the tokens
 * is not known (server-stream.ts counts it from the stream).
 */
import { EngineRequestError, emptyAnswer, type FoldedAnswer } from './server-stream.ts'

interface Timings {
  cache_n?: number
  predicted_n?: number
  predicted_ms?: number
  predicted_per_second?: number
}

/** A streamed request's body, asked for whole: without its stream's own options. */
export function asWhole(body: Record<string, unknown>): Record<string, unknown> {
  const { stream_options: _, timings_per_token: __, ...rest } = body
  return { ...rest, stream: false }
}

/** A whole `/completion` answer: the object a stream's last event is, with all the content. */
export function wholeCompletion(body: unknown, arrivedAt: number): FoldedAnswer {
  const event = asObject(body) as {
    content?: string
    stop_type?: string
    tokens_predicted?: number
    tokens_evaluated?: number
    timings?: Timings
  }
  const answer = emptyAnswer()
  answer.text = event.content ?? ''
  answer.stopType = event.stop_type ?? 'eos'
  answer.generatedTokens = event.tokens_predicted ?? 0
  answer.promptTokens = event.tokens_evaluated ?? 0
  return timed(cut(answer), event.timings, arrivedAt)
}

/** A whole chat answer: OpenAI's `chat.completion`, with llama.cpp's own stop type (`__verbose`). */
export function wholeChat(body: unknown, arrivedAt: number): FoldedAnswer {
  const completion = asObject(body) as {
    choices?: {
      message?: {
        content?: string | null
        reasoning_content?: string | null
        tool_calls?: { function?: { name?: string; arguments?: string } }[]
      }
      finish_reason?: string | null
    }[]
    usage?: { prompt_tokens?: number; completion_tokens?: number }
    timings?: Timings
    __verbose?: { stop_type?: string }
  }
  const choice = completion.choices?.[0]
  const answer = emptyAnswer()
  answer.text = choice?.message?.content ?? ''
  answer.reasoning = choice?.message?.reasoning_content ?? ''
  answer.toolCalls = (choice?.message?.tool_calls ?? [])
    .map((c) => ({ name: c.function?.name ?? '', arguments: c.function?.arguments ?? '' }))
    .filter((c) => c.name !== '')
  const native = completion.__verbose?.stop_type
  answer.stopType =
    answer.toolCalls.length > 0
      ? 'tool_calls'
      : (native ?? (choice?.finish_reason === 'length' ? 'limit' : 'eos'))
  answer.promptTokens = completion.usage?.prompt_tokens ?? 0
  answer.generatedTokens = completion.usage?.completion_tokens ?? 0
  // No per-token counts: a reasoning with no answer after it took every token, as a stream counts it.
  const answered = answer.text !== '' || answer.toolCalls.length > 0
  if (answer.reasoning !== '' && !answered) answer.reasoningTokens = answer.generatedTokens
  return timed(cut(answer), completion.timings, arrivedAt)
}

/**
 * A stream holds back a last character whose bytes are not all there yet, so an answer cut by
 * max_tokens inside one ends before it; a whole answer ends in its bytes, each written as U+FFFD
 * (three at most: a character is four bytes at most). A model writing bytes that are no text (the
 * generated test models) may end in more, which a stream sends, or in a lone one that a stream sends as
 * U+FFFD and this drops: written as U+FFFD, it cannot be told from a cut character.
 */
function cut(answer: FoldedAnswer): FoldedAnswer {
  if (answer.stopType === 'limit') answer.text = answer.text.replace(/\uFFFD{1,3}$/, '')
  return answer
}

/**
 * The cache and decode rate as a stream's timings give them; the first output's time is when its
 * first token was decoded, the answer's arrival less the decoding of the rest (a stream sees it then).
 */
function timed(answer: FoldedAnswer, timings: Timings | undefined, arrivedAt: number): FoldedAnswer {
  answer.cachedTokens = timings?.cache_n ?? 0
  const decoded = timings?.predicted_n ?? 0
  if (decoded > 1 && timings?.predicted_per_second)
    answer.decodeRate = Math.round(timings.predicted_per_second * 10) / 10
  const output = answer.text !== '' || answer.reasoning !== '' || answer.toolCalls.length > 0
  const rest = decoded > 1 ? ((timings?.predicted_ms ?? 0) * (decoded - 1)) / decoded : 0
  answer.firstOutputAt = output ? arrivedAt - rest : null
  return answer
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new EngineRequestError(502, 'server_error', 'llama-server answered something that is not an object')
  return body as Record<string, unknown>
}
