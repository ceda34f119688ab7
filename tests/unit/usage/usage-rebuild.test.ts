/** The leaves' rows with usage.json's notes laid over them where the counts agree (issue 47, point 1). */
import { describe, expect, it } from 'vitest'
import { reconcile } from '../../../host/usage/usage-rebuild.ts'
import type { UsageRow } from '../../../host/usage/usage-totals.ts'

const row = (over: Partial<UsageRow>): UsageRow => ({
  direction: 'used',
  member: 'uhCAkRunner',
  key: null,
  model: 'm',
  hour: '2026-11-25T04:00:00.000Z',
  requests: 3,
  failed: 0,
  tokens_in: 30,
  tokens_out: 6,
  reasoning_tokens: 0,
  busy_s: 1.5,
  ...over,
})

const byKey = [
  row({ key: 'k1', requests: 2, tokens_in: 20, tokens_out: 4, reasoning_tokens: 9, busy_s: 1 }),
  row({ key: null, requests: 1, tokens_in: 10, tokens_out: 2, reasoning_tokens: 1, busy_s: 0.5 }),
]

describe('reconcile', () => {
  it.each([
    ['kept rows that sum to the leaves: split by key, with reasoning', byKey, byKey],
    ['none kept: the leaves’ row', [], [row({})]],
    [
      'kept with a token more than the leaves: the leaves’ row',
      [{ ...byKey[0]!, tokens_in: 21 }, byKey[1]!],
      [row({})],
    ],
    ['kept with a request fewer (a window after the write): the leaves’ row', [byKey[0]!], [row({})]],
    ['kept for another hour only: the leaves’ row', [row({ hour: '2026-11-25T03:00:00.000Z' })], [row({})]],
  ] as const)('%s', (_name, kept, expected) => {
    expect(reconcile([row({})], kept)).toEqual(expected)
  })
})
