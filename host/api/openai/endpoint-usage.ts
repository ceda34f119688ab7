/**
 * What the endpoints (`/v1`, and `/mcp`'s inference tools) do for usage and limits (issue 47): before a request runs, its API
 * key's limits admit it or refuse it with a 429 in the API's own shape and `retry-after`; once
 * answered, its tokens count against the key, and the usage ledger notes the key that asked and the
 * reasoning tokens spent (the signed leaves carry neither).
 */
import type { InferenceAnswer } from '../../requests/requests-port.ts'
import { KeyLimiter } from '../../usage/key-limits.ts'
import type { UsagePort } from '../../usage/usage-port.ts'
import type { ApiKeyView } from '../api-keys.ts'
import { EndpointError } from './endpoint-error.ts'

/** A key over one of its limits: 429 (`rate_limit_error` on both APIs), with when to try again. */
export class RateLimitError extends EndpointError {
  constructor(message: string, retryAfterS: number) {
    super('busy/limited', 'rate_limit_exceeded', message, null, retryAfterS)
  }
}

/** Tokens an answer took, as its output says (an embedding's: its input only). */
export function answerTokens(output: unknown): { in: number; out: number; reasoning: number } {
  const t = (output as { timings?: Record<string, unknown> } | null)?.timings ?? {}
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  return { in: n(t.prompt_tokens), out: n(t.generated_tokens), reasoning: n(t.reasoning_tokens) }
}

export class EndpointUsage {
  readonly #ledger: Pick<UsagePort, 'note' | 'rows'> | undefined
  readonly #limiter = new KeyLimiter()
  /** Keys whose day was given back from the ledger (once each, before the key's first request here). */
  readonly #restored = new Set<string>()
  readonly #now: () => number

  constructor(ledger?: Pick<UsagePort, 'note' | 'rows'>, now: () => number = Date.now) {
    this.#ledger = ledger
    this.#now = now
  }

  /** Throws RateLimitError when the key is over one of its limits; else counts the request. */
  admit(key: ApiKeyView | null): void {
    if (!key?.limits) return
    this.#restore(key.id)
    const admitted = this.#limiter.admit(key.id, key.limits, this.#now())
    if (!admitted.ok) throw new RateLimitError(`${key.id}: ${admitted.message}`, admitted.retryAfterS)
  }

  answered(key: ApiKeyView | null, answer: Pick<InferenceAnswer, 'task' | 'output'>): void {
    const tokens = answerTokens(answer.output)
    this.#ledger?.note(answer.task, { key: key?.id ?? null, reasoning: tokens.reasoning })
    if (key?.limits) this.#limiter.count(key.id, tokens.in + tokens.out, this.#now())
  }

  /**
   * A key's tokens of the last day before this process (a restart), from the ledger's rows (rebuilt
   * from the signed leaves, with the keys usage.json kept): its day limit holds across restarts. Read
   * before its first request here, so nothing answered since is counted twice.
   */
  #restore(id: string): void {
    if (this.#restored.has(id)) return
    this.#restored.add(id)
    const now = this.#now()
    for (const row of this.#ledger?.rows(now - 25 * 3_600_000) ?? [])
      if (row.key === id) this.#limiter.restore(id, Date.parse(row.hour), row.tokens_in + row.tokens_out, now)
  }
}
