/**
 * What the endpoint (`/v1`) does for usage and limits (issue 47): before a request runs, its API
 * key's limits admit it or refuse it with a 429 in the API's own shape and `retry-after`; once
 * answered, its tokens count against the key, and the usage ledger notes the key that asked and the
 * reasoning tokens spent (the signed leaves carry neither).
 */
import type { InferenceAnswer } from '../../requests/run-request.ts'
import { KeyLimiter } from '../../usage/key-limits.ts'
import type { UsageLedger } from '../../usage/usage-ledger.ts'
import type { ApiKeyView } from '../api-keys.ts'
import { EndpointError } from './endpoint-error.ts'

/** A key over one of its limits: 429 (`rate_limit_error` on both APIs), with when to try again. */
export class RateLimitError extends EndpointError {
  constructor(message: string, retryAfterS: number) {
    super('busy', 'rate_limit_exceeded', message, null, retryAfterS)
  }
}

/** Tokens an answer took, as its output says (an embedding's: its input only). */
export function answerTokens(output: unknown): { in: number; out: number; reasoning: number } {
  const t = (output as { timings?: Record<string, unknown> } | null)?.timings ?? {}
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  return { in: n(t.prompt_tokens), out: n(t.generated_tokens), reasoning: n(t.reasoning_tokens) }
}

export class EndpointUsage {
  readonly #notes: Pick<UsageLedger, 'note'> | undefined
  readonly #limiter = new KeyLimiter()
  readonly #now: () => number

  constructor(notes?: Pick<UsageLedger, 'note'>, now: () => number = Date.now) {
    this.#notes = notes
    this.#now = now
  }

  /** Throws RateLimitError when the key is over one of its limits; else counts the request. */
  admit(key: ApiKeyView | null): void {
    if (!key?.limits) return
    const admitted = this.#limiter.admit(key.id, key.limits, this.#now())
    if (!admitted.ok) throw new RateLimitError(`${key.id}: ${admitted.message}`, admitted.retryAfterS)
  }

  answered(key: ApiKeyView | null, answer: InferenceAnswer): void {
    const tokens = answerTokens(answer.output)
    this.#notes?.note(answer.task, { key: key?.id ?? null, reasoning: tokens.reasoning })
    if (key?.limits) this.#limiter.count(key.id, tokens.in + tokens.out, this.#now())
  }
}
