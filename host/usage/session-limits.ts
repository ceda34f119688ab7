/**
 * An API key's caps per agent session (issue 58, point 4): the turns (requests) and tokens (in + out)
 * one session of a coding agent (agent-session.ts) may take, so a loop that runs away stops at its
 * budget while the key's other sessions go on. Admission works as the key's own limits do
 * (key-limits.ts): a turn is counted and the request's most tokens reserved when it is admitted, so
 * concurrent calls of one session cannot pass a cap together; its end settles the reservation with what
 * it really took. A session first seen (or seen again after it was forgotten) starts from what the usage
 * ledger counted of it (`past`), so a restart does not reset its budget. Kept in memory, bounded: the
 * sessions least recently seen go first beyond MAX_SESSIONS, and one idle a day is forgotten. Pure: time
 * is an argument.
 */
import type { KeyLimits } from './key-limits.ts'

export type SessionLimitName = 'session_turns' | 'session_tokens'

export const MAX_SESSIONS = 10_000
export const SESSION_IDLE_MS = 24 * 3_600_000

interface SessionUse {
  turns: number
  /** Tokens settled. */
  tokens: number
  /** Reservations of turns admitted and not yet settled, by ticket. */
  held: Map<number, number>
  heldTokens: number
  seen: number
}

export type SessionAdmission =
  | { ok: true; ticket: number }
  | { ok: false; limit: SessionLimitName; retryAfterS: number; message: string }

/** What the usage ledger counted of a session before this count began. */
export type SessionPast = () => { turns: number; tokens: number }

export class SessionLimiter {
  /** `key\nsession` -> its use; least recently seen first. */
  readonly #use = new Map<string, SessionUse>()
  #tickets = 0

  /** Whether `limits` caps sessions at all (a key without caps keeps no session here). */
  static caps(limits: KeyLimits): boolean {
    return limits.session_turns !== undefined || limits.session_tokens !== undefined
  }

  /** Admits a turn of `session` under `key`, reserving `reserve` tokens, or says which cap refuses it. */
  admit(
    key: string,
    session: string,
    limits: KeyLimits,
    now: number,
    reserve = 0,
    past: SessionPast = () => ({ turns: 0, tokens: 0 }),
  ): SessionAdmission {
    const use = this.#touch(`${key}\n${session}`, now, past)
    const refusal =
      over('session_turns', limits.session_turns, use.turns, session) ??
      over('session_tokens', limits.session_tokens, use.tokens + use.heldTokens, session)
    if (refusal) return refusal
    const ticket = ++this.#tickets
    const tokens = Math.max(0, reserve)
    use.turns += 1
    use.held.set(ticket, tokens)
    use.heldTokens += tokens
    return { ok: true, ticket }
  }

  /** Ends an admitted turn: its reservation freed, the `tokens` it took counted (once). */
  settle(key: string, session: string, ticket: number, tokens: number): void {
    const use = this.#use.get(`${key}\n${session}`)
    const reserved = use?.held.get(ticket)
    if (use === undefined || reserved === undefined) return
    use.held.delete(ticket)
    use.heldTokens -= reserved
    use.tokens += Math.max(0, tokens)
  }

  /** Takes back an admitted turn that never ran (the key's own limits refused it): nothing counted. */
  cancel(key: string, session: string, ticket: number): void {
    const use = this.#use.get(`${key}\n${session}`)
    const reserved = use?.held.get(ticket)
    if (use === undefined || reserved === undefined) return
    use.held.delete(ticket)
    use.heldTokens -= reserved
    use.turns -= 1
  }

  get size(): number {
    return this.#use.size
  }

  #touch(id: string, now: number, past: SessionPast): SessionUse {
    let use = this.#use.get(id)
    if (use !== undefined && use.held.size === 0 && now - use.seen > SESSION_IDLE_MS) use = undefined
    if (use === undefined) {
      use = { ...past(), held: new Map(), heldTokens: 0, seen: now }
    }
    use.seen = now
    this.#use.delete(id)
    this.#use.set(id, use)
    for (const [oldest, u] of this.#use) {
      if (this.#use.size <= MAX_SESSIONS) break
      // One with turns running stays: its settle must find it.
      if (u.held.size === 0) this.#use.delete(oldest)
      else break
    }
    return use
  }
}

const PER: Record<SessionLimitName, string> = { session_turns: 'turns', session_tokens: 'tokens' }

function over(
  limit: SessionLimitName,
  max: number | undefined,
  used: number,
  session: string,
): SessionAdmission | null {
  if (max === undefined || used < max) return null
  // A session's budget does not come back with time: the agent starts a new session.
  return {
    ok: false,
    limit,
    retryAfterS: Math.ceil(SESSION_IDLE_MS / 1000),
    message: `session ${session} over the API key's limit of ${max} ${PER[limit]} per session (${used} used); start a new session`,
  }
}
