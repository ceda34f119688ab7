/**
 * What the endpoints (`/v1`, and `/mcp`'s inference tools) do for usage and limits (issue 47; issue
 * 55, point 8): before a request runs, its API key's limits admit it, reserving its most tokens (its
 * `max_tokens` times its runs) and one request at once, or refuse it with a 429 in the API's own shape
 * and `retry-after`. Its end settles the reservation: an answer with its tokens times its runs (a
 * fan-out is that many runs); a request that ends unanswered with what it streamed so far, or, when
 * its client went away after a runner took it and nothing streamed (a JSON reply), with the whole
 * reservation, since what the runner made is not known here. The usage ledger notes the key that
 * asked and the reasoning tokens spent (the signed leaves carry neither). A coding agent's session
 * (issue 58, point 4) is admitted first against its key's session caps (session-limits.ts) and named
 * in the note, so its usage is counted by session.
 */
import type { FastifyReply } from 'fastify'
import type { RunEvent } from '../../interface/run-event.ts'
import { type AgentSession, sessionName } from '../../requests/agent-session.ts'
import type { InferenceAnswer } from '../../requests/requests-port.ts'
import { KeyLimiter } from '../../usage/key-limits.ts'
import { SessionLimiter } from '../../usage/session-limits.ts'
import type { UsagePort } from '../../usage/usage-port.ts'
import { type InferGenerateInput, InferGenerateInputSchema } from '../../workers/infer-generate-input.ts'
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

/** What a request may take: its most output tokens per run (0 for embeddings), and its runs (fan-out). */
export interface RequestSize {
  maxTokens: number
  runs: number
}

/** A generation's most output tokens per run: its `max_tokens`, or the worker's default. */
export function maxTokensOf(input: Pick<InferGenerateInput, 'max_tokens'>): number {
  return InferGenerateInputSchema.shape.max_tokens.parse(input.max_tokens)
}

/** Whether the reply's client went away before the reply was finished (asked at the request's end). */
export function clientGone(reply: Pick<FastifyReply, 'raw'>): () => boolean {
  let gone = false
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) gone = true
  })
  return () => gone
}

/** An admitted request's hold on its key's limits, from admission to its end. */
export interface KeyTicket {
  /** Each event of the run: the output streamed counts should the request end unanswered. */
  saw(event: RunEvent): void
  /** Its answer: counted against the key at the end, and noted in the usage ledger. */
  answered(answer: Pick<InferenceAnswer, 'task' | 'output'>): void
  /** Its end, answered or not (`gone`: its client went away first): settles the reservation once. */
  end(gone: boolean): void
}

/** Output streamed so far, in tokens: a piece per token as engines stream, at least a token per 4 characters. */
function streamedTokens() {
  let pieces = 0
  let chars = 0
  return {
    add(event: RunEvent) {
      if (event.type !== 'token' && event.type !== 'reasoning' && event.type !== 'tool-call') return
      pieces += 1
      chars += event.type === 'tool-call' ? event.arguments.length : event.text.length
    },
    tokens: () => Math.max(pieces, Math.ceil(chars / 4)),
  }
}

export class EndpointUsage {
  readonly #ledger: Pick<UsagePort, 'note' | 'rows'> | undefined
  readonly #limiter = new KeyLimiter()
  readonly #sessions = new SessionLimiter()
  /** Keys whose day was given back from the ledger (once each, before the key's first request here). */
  readonly #restored = new Set<string>()
  readonly #now: () => number

  constructor(ledger?: Pick<UsagePort, 'note' | 'rows'>, now: () => number = Date.now) {
    this.#ledger = ledger
    this.#now = now
  }

  /** Throws RateLimitError when the key is over one of its limits; else holds its share until the ticket ends. */
  admit(key: ApiKeyView | null, size: RequestSize, agentSession: AgentSession | null = null): KeyTicket {
    const runs = Math.max(1, size.runs)
    const reserve = Math.max(0, size.maxTokens) * runs
    const session = agentSession && sessionName(agentSession)
    let ticket: number | null = null
    // The session's turn, when its key caps sessions: taken back if the key's own limits refuse it.
    let turn: { key: string; session: string; ticket: number } | null = null
    if (key !== null) {
      const now = this.#now()
      if (session !== null && SessionLimiter.caps(key.limits ?? {})) {
        const past = () => this.#sessionPast(key.id, session)
        const admitted = this.#sessions.admit(key.id, session, key.limits ?? {}, now, reserve, past)
        if (!admitted.ok) throw new RateLimitError(`${key.id}: ${admitted.message}`, admitted.retryAfterS)
        turn = { key: key.id, session, ticket: admitted.ticket }
      }
      this.#restore(key.id)
      const admitted = this.#limiter.admit(key.id, key.limits ?? {}, now, reserve)
      if (!admitted.ok) {
        if (turn) this.#sessions.cancel(turn.key, turn.session, turn.ticket)
        throw new RateLimitError(`${key.id}: ${admitted.message}`, admitted.retryAfterS)
      }
      ticket = admitted.ticket
    }
    const streamed = streamedTokens()
    let taken = false
    let answeredTokens: number | null = null
    return {
      saw: (event) => {
        if (event.type === 'assigned') taken = true
        streamed.add(event)
      },
      answered: (answer) => {
        const tokens = answerTokens(answer.output)
        this.#ledger?.note(answer.task, {
          key: key?.id ?? null,
          reasoning: tokens.reasoning,
          ...(session !== null && { session }),
        })
        answeredTokens = (tokens.in + tokens.out) * runs
      },
      end: (gone) => {
        if (key === null || ticket === null) return
        const seen = streamed.tokens() * runs
        const tokens = answeredTokens ?? (gone && taken && seen === 0 ? reserve : seen)
        this.#limiter.settle(key.id, ticket, tokens, this.#now())
        if (turn) this.#sessions.settle(turn.key, turn.session, turn.ticket, tokens)
        ticket = null
      },
    }
  }

  /** What the ledger counted of a key's session in the last day (a session first seen here: a restart). */
  #sessionPast(id: string, session: string): { turns: number; tokens: number } {
    const past = { turns: 0, tokens: 0 }
    for (const row of this.#ledger?.rows(this.#now() - 25 * 3_600_000) ?? [])
      if (row.key === id && row.session === session) {
        past.turns += row.requests
        past.tokens += row.tokens_in + row.tokens_out
      }
    return past
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
