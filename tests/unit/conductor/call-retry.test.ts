import { describe, expect, it } from 'vitest'
import { retryDelayOf } from '../../../host/conductor/holochain/call-retry.ts'

const HEAD_MOVED =
  'ribosome_error: SourceChainError(HeadMoved(...)): source chain head has moved since the bundle began'
const UNANSWERED =
  'ribosome_error: Wasm runtime error ... get_links response channel dropped: likely response timeout'
const half = () => 0.5

describe('retryDelayOf: which failed zome calls the holochain backend makes again', () => {
  it.each([
    ['a moved chain head, first attempt', HEAD_MOVED, 1, 15],
    ['a moved chain head, later attempts wait longer', HEAD_MOVED, 3, 35],
    ['a moved chain head, the last attempt', HEAD_MOVED, 8, null],
    ['a get no peer answered: again at once (the wait was the timeout)', UNANSWERED, 1, 0],
    ['a get no peer answered, third attempt', UNANSWERED, 3, 0],
    ['a get no peer answered, the last attempt', UNANSWERED, 4, null],
    ['a rule refused the entry', 'InvalidCommit("task.author_role: not the author")', 1, null],
    ['the client gave up waiting (the conductor may still run it)', 'Request timed out in 60000 ms', 1, null],
  ])('%s', (_, message, attempt, delay) => {
    expect(retryDelayOf(message, attempt, half)).toBe(delay)
  })
})
