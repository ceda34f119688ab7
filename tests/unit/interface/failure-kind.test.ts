/**
 * The failure vocabulary every edge answers from: an error's declared kind is read by shape (a copy
 * of a module's error says it too), anything else says nothing, and a table that does not tell a
 * shade apart answers the shade's kind.
 */
import { describe, expect, it } from 'vitest'
import { answerFor, type FailureTable, failureOf, kindOf } from '../../../host/interface/failure-kind.ts'

describe('failureOf and kindOf', () => {
  it('read the kind an error declares, by shape, with its shade or without', () => {
    const copy = Object.assign(new Error('no room'), {
      name: 'PinQuotaExceededError',
      failureKind: 'unavailable/no_room',
    })
    expect(failureOf(copy)).toBe('unavailable/no_room')
    expect(kindOf(copy)).toBe('unavailable')
    expect(kindOf({ failureKind: 'busy' })).toBe('busy')
  })

  it('say nothing of an error that declares no kind, or a word that is not one', () => {
    // InvalidGrammarError has a `kind` of its own ('json_schema'): not a failure kind.
    for (const err of [new Error('x'), { kind: 'json_schema' }, { failureKind: 'json_schema' }, null, 'text'])
      expect([failureOf(err), kindOf(err)]).toEqual([null, null])
  })
})

describe('answerFor', () => {
  const table: FailureTable<number> = {
    invalid: 400,
    'invalid/too_large': 413,
    forbidden: 403,
    not_found: 404,
    conflict: 409,
    busy: 429,
    unavailable: 503,
    failed: 500,
  }

  it("answers a shade the table tells apart with its own, any other with its kind's", () => {
    expect(answerFor(table, 'invalid/too_large')).toBe(413)
    expect(answerFor(table, 'invalid/unprocessable')).toBe(400)
    expect(answerFor(table, 'unavailable/no_room')).toBe(503)
    expect(answerFor(table, 'conflict')).toBe(409)
  })
})
