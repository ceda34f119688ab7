/** One streamed chat request as the fair-share and priority benches time it. */
import { performance } from 'node:perf_hooks'
import type OpenAI from 'openai'

/**
 * One prompt for every loop: the generated model's weights are random, and its greedy answer to some
 * prompts decodes to no text at all (to "Agent b0: ...", say), which would time a whole answer as its
 * first token.
 */
export const PROMPT = `Agent: ${'a tool result '.repeat(12)}`

export interface Done {
  /** NaN for an answer with no text: it has no first token and is left out of first-token figures. */
  ttftMs: number
  tokens: number
  text: string
}

/** Its first-token time, tokens and whole text; null when it failed (refused: 429/503). */
export async function streamedAsk(api: OpenAI, maxTokens: number): Promise<Done | null> {
  const sentAt = performance.now()
  try {
    const stream = await api.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    })
    let firstAt: number | null = null
    let tokens = 0
    let text = ''
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content ?? ''
      if (firstAt === null && piece !== '') firstAt = performance.now()
      text += piece
      tokens = chunk.usage?.completion_tokens ?? tokens
    }
    return { ttftMs: (firstAt ?? Number.NaN) - sentAt, tokens, text }
  } catch {
    return null
  }
}
