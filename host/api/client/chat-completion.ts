/**
 * A chat completion through the daemon's OpenAI-compatible endpoint (`/v1/chat/completions`), read
 * the way any OpenAI client reads it (its error shape, its `[DONE]`-terminated stream) so the
 * dashboard needs no second client. The endpoint is outside the route contract: its shapes are
 * OpenAI's.
 */
import type { z } from 'zod'
import type { ChatCompletionRequestSchema } from '../openai/chat-completions.ts'
import type { ApiTransport, CallOptions } from './api-transport.ts'
import { ApiRequestError } from './errors.ts'

export type ChatRequest = Omit<z.input<typeof ChatCompletionRequestSchema>, 'stream' | 'stream_options'>

export interface ChatOptions extends CallOptions {
  /** Each piece of text as the running peer produces it; given, the answer streams (one peer only). */
  onDelta?: (text: string) => void
  /** A thinking model's reasoning as it comes, before its text (while streaming). */
  onReasoning?: (text: string) => void
}

/** A streamed chat completion, traced to the task whose signed Result holds it. */
export interface ChatAnswer {
  text: string
  /** A thinking model's reasoning, apart from its text (`reasoning_content`); empty when none. */
  reasoning: string
  /** The task's action hash (`x-ripple-task`) and the peer that ran it (`x-ripple-peer`). */
  task: string
  peer: string
  finish_reason: string | null
}

/** An OpenAI error body, or one chunk of a streamed completion. */
interface OpenAiError {
  error?: { message?: string; type?: string; code?: string | null }
}

export async function chatCompletion(
  http: ApiTransport,
  request: ChatRequest,
  options: ChatOptions = {},
): Promise<ChatAnswer> {
  const res = await http.fetch('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...request, stream: options.onDelta !== undefined }),
    signal: options.signal,
  })
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as OpenAiError | null
    throw new ApiRequestError(
      res.status,
      body?.error?.code ?? body?.error?.type ?? 'HttpError',
      body?.error?.message ?? res.statusText,
    )
  }
  const answer: ChatAnswer = {
    text: '',
    reasoning: '',
    task: res.headers.get('x-ripple-task') ?? '',
    peer: res.headers.get('x-ripple-peer') ?? '',
    finish_reason: null,
  }
  if (options.onDelta === undefined) {
    const whole = (await http.body(res, options.signal)) as {
      choices: {
        message: { content: string | null; reasoning_content?: string }
        finish_reason: string | null
      }[]
    }
    const [choice] = whole.choices
    return {
      ...answer,
      text: choice?.message.content ?? '',
      reasoning: choice?.message.reasoning_content ?? '',
      finish_reason: choice?.finish_reason ?? null,
    }
  }
  for await (const { data } of http.events(res)) {
    if (data === '[DONE]') break
    const chunk = JSON.parse(data) as OpenAiError & {
      choices?: {
        delta?: { content?: string | null; reasoning_content?: string }
        finish_reason?: string | null
      }[]
    }
    if (chunk.error)
      throw new ApiRequestError(500, chunk.error.type ?? 'StreamError', chunk.error.message ?? '')
    const [choice] = chunk.choices ?? []
    const thought = choice?.delta?.reasoning_content
    if (thought) {
      answer.reasoning += thought
      options.onReasoning?.(thought)
    }
    const delta = choice?.delta?.content
    if (delta) {
      answer.text += delta
      options.onDelta(delta)
    }
    if (choice?.finish_reason) answer.finish_reason = choice.finish_reason
  }
  return answer
}
