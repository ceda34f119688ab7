/**
 * What the endpoint (`/v1`) tells the usage ledger of each answer it gives: the API key that asked
 * and the reasoning tokens spent, which the signed leaves do not carry (issue 47).
 */
import type { InferenceAnswer } from '../../requests/run-request.ts'
import type { UsageLedger } from '../../usage/usage-ledger.ts'
import type { ApiKeyView } from '../api-keys.ts'

/** Tokens an answer took, as its output says (an embedding's: its input only). */
export function answerTokens(output: unknown): { in: number; out: number; reasoning: number } {
  const t = (output as { timings?: Record<string, unknown> } | null)?.timings ?? {}
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  return { in: n(t.prompt_tokens), out: n(t.generated_tokens), reasoning: n(t.reasoning_tokens) }
}

export function noteAnswer(
  usage: Pick<UsageLedger, 'note'>,
  key: ApiKeyView | null,
  answer: InferenceAnswer,
): void {
  usage.note(answer.task, { key: key?.id ?? null, reasoning: answerTokens(answer.output).reasoning })
}
