/**
 * A key's day limit holds across a daemon restart (issue 47, point 2): the endpoint's count is given
 * back from the usage ledger's rows (rebuilt at start from the signed leaves, with the keys usage.json
 * kept: usage-file.test.ts), once per key before its first request, so nothing is counted twice.
 */
import { describe, expect, it } from 'vitest'
import type { ApiKeyView } from '../../../host/api/api-keys.ts'
import { EndpointUsage, type KeyTicket, RateLimitError } from '../../../host/api/openai/endpoint-usage.ts'
import { UsageLedger } from '../../../host/usage/usage-ledger.ts'
import type { UsageRow } from '../../../host/usage/usage-totals.ts'

const NOW = Date.parse('2026-11-25T10:30:00.000Z')
const key = (id: string): ApiKeyView => ({
  id,
  name: null,
  models: null,
  created_at: '2026-11-01T00:00:00.000Z',
  expires_at: null,
  revoked_at: null,
  limits: { tokens_per_day: 1000 },
})
const row = (keyId: string | null, hour: string, tokensIn: number, tokensOut: number): UsageRow => ({
  direction: 'used',
  member: 'runner',
  key: keyId,
  model: 'tiny',
  hour,
  requests: 1,
  failed: 0,
  tokens_in: tokensIn,
  tokens_out: tokensOut,
  reasoning_tokens: 0,
  busy_s: 1,
})
const answer = (tokens: number) => ({
  task: 't',
  output: { timings: { prompt_tokens: tokens, generated_tokens: 0 } },
})

const size = { maxTokens: 0, runs: 1 }
const answerWith = (ticket: KeyTicket, a: ReturnType<typeof answer>) => {
  ticket.answered(a)
  ticket.end(false)
}

describe('key limits after a restart', () => {
  it('a key that spent its day before the restart is refused after it; another key is not', () => {
    const ledger = new UsageLedger()
    ledger.replace([
      row('k1', '2026-11-25T08:00:00.000Z', 600, 400),
      row('k2', '2026-11-25T08:00:00.000Z', 1, 1),
    ])
    const usage = new EndpointUsage(ledger, () => NOW)
    expect(() => usage.admit(key('k1'), size)).toThrow(RateLimitError)
    expect(() => usage.admit(key('k1'), size)).toThrow(/1000 tokens per day \(1000 used\)/)
    usage.admit(key('k2'), size)
  })

  it('rows older than a day, and the token’s rows, do not count; what is answered after is counted once', () => {
    const ledger = new UsageLedger()
    ledger.replace([
      row('k1', '2026-11-24T09:00:00.000Z', 5000, 0),
      row(null, '2026-11-25T10:00:00.000Z', 5000, 0),
      row('k1', '2026-11-25T10:00:00.000Z', 500, 0),
    ])
    const usage = new EndpointUsage(ledger, () => NOW)
    answerWith(usage.admit(key('k1'), size), answer(400))
    // The answer's window signed: the ledger's row grows, and is not read again.
    ledger.replace([row('k1', '2026-11-25T10:00:00.000Z', 900, 0)])
    answerWith(usage.admit(key('k1'), size), answer(100))
    expect(() => usage.admit(key('k1'), size)).toThrow(/1000 used/)
  })
})
