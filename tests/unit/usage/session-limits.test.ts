/**
 * An API key's caps per agent session (issue 58, point 4): turns and tokens one session may take,
 * admitted like the key's own limits (a turn counted and its most tokens reserved when admitted,
 * settled at its end), the N+1th turn refused; other sessions of the key untouched; a session first
 * seen starts from what the ledger counted of it; bounded.
 */
import { describe, expect, it } from 'vitest'
import { limitsText } from '../../../host/usage/key-limits.ts'
import { MAX_SESSIONS, SessionLimiter } from '../../../host/usage/session-limits.ts'

const T = 1_000_000

describe('SessionLimiter', () => {
  it('refuses the N+1th turn of a session capped at N, and no other session', () => {
    const limiter = new SessionLimiter()
    const limits = { session_turns: 3 }
    for (let i = 0; i < 3; i++) {
      const a = limiter.admit('k', 'claude-code:s1', limits, T)
      expect(a.ok).toBe(true)
      if (a.ok) limiter.settle('k', 'claude-code:s1', a.ticket, 10)
    }
    const refused = limiter.admit('k', 'claude-code:s1', limits, T)
    expect(refused).toMatchObject({
      ok: false,
      limit: 'session_turns',
      message: expect.stringMatching(
        /session claude-code:s1 over .* limit of 3 turns per session \(3 used\)/,
      ),
    })
    expect(limiter.admit('k', 'claude-code:s2', limits, T).ok).toBe(true)
    expect(limiter.admit('other-key', 'claude-code:s1', limits, T).ok).toBe(true)
  })

  it('counts turns running at once, so concurrent turns cannot pass the cap together', () => {
    const limiter = new SessionLimiter()
    expect(limiter.admit('k', 's', { session_turns: 2 }, T).ok).toBe(true)
    expect(limiter.admit('k', 's', { session_turns: 2 }, T).ok).toBe(true)
    expect(limiter.admit('k', 's', { session_turns: 2 }, T).ok).toBe(false)
  })

  it('caps tokens with what turns hold reserved, settled to what they took', () => {
    const limiter = new SessionLimiter()
    const limits = { session_tokens: 100 }
    const first = limiter.admit('k', 's', limits, T, 120)
    expect(first.ok).toBe(true)
    // Held: 120 reserved by a turn not yet answered.
    expect(limiter.admit('k', 's', limits, T, 10)).toMatchObject({ ok: false, limit: 'session_tokens' })
    if (first.ok) limiter.settle('k', 's', first.ticket, 40)
    const second = limiter.admit('k', 's', limits, T, 10)
    expect(second.ok).toBe(true)
    if (second.ok) limiter.settle('k', 's', second.ticket, 70)
    expect(limiter.admit('k', 's', limits, T)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/100 tokens per session \(110 used\)/),
    })
  })

  it('takes back a turn the key refused, counting nothing', () => {
    const limiter = new SessionLimiter()
    const a = limiter.admit('k', 's', { session_turns: 1 }, T, 50)
    expect(a.ok).toBe(true)
    if (a.ok) limiter.cancel('k', 's', a.ticket)
    expect(limiter.admit('k', 's', { session_turns: 1 }, T).ok).toBe(true)
  })

  it('starts a session first seen from what the ledger counted of it (a restart)', () => {
    const limiter = new SessionLimiter()
    const past = () => ({ turns: 5, tokens: 0 })
    expect(limiter.admit('k', 's', { session_turns: 5 }, T, 0, past)).toMatchObject({ ok: false })
    expect(limiter.admit('k', 't', { session_turns: 6 }, T, 0, past).ok).toBe(true)
  })

  it('keeps at most MAX_SESSIONS, the least recently seen going first', () => {
    const limiter = new SessionLimiter()
    for (let i = 0; i <= MAX_SESSIONS; i++) {
      const a = limiter.admit('k', `s${i}`, { session_turns: 1 }, T + i)
      if (a.ok) limiter.settle('k', `s${i}`, a.ticket, 1)
    }
    expect(limiter.size).toBe(MAX_SESSIONS)
    // s0 was forgotten: it starts afresh (from the ledger, here nothing); s1 is still capped.
    expect(limiter.admit('k', 's0', { session_turns: 1 }, T + MAX_SESSIONS + 1).ok).toBe(true)
    expect(limiter.admit('k', `s${MAX_SESSIONS}`, { session_turns: 1 }, T + MAX_SESSIONS + 2).ok).toBe(false)
  })

  it('shows the caps in `ripple keys ls`', () => {
    expect(SessionLimiter.caps({ rpm: 5 })).toBe(false)
    expect(SessionLimiter.caps({ session_turns: 5 })).toBe(true)
    expect(limitsText({ session_turns: 40, session_tokens: 200_000 })).toBe(
      '40 turns/session, 200000 tokens/session',
    )
  })
})
