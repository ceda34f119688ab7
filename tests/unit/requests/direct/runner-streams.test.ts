/**
 * The runner's streams read a window's batch from the chain once for all of the window's proofs, and
 * again for the next window's.
 */
import { describe, expect, it } from 'vitest'
import type { CarriedOps } from '../../../../host/interface/carried-ops.ts'
import { lastBatch } from '../../../../host/requests/direct/runner-streams.ts'

describe('lastBatch', () => {
  it('reads each batch once while its proofs go out, and the next batch when it comes', () => {
    const reads: string[] = []
    const carry = lastBatch((batch): CarriedOps | null => {
      reads.push(batch)
      return batch === 'none' ? null : [[batch, 'sig', null]]
    })
    const carried = ['w1', 'w1', 'w1', 'w2', 'w2', 'none', 'none'].map(carry)
    expect(reads).toEqual(['w1', 'w2', 'none'])
    expect(carried).toEqual([
      [['w1', 'sig', null]],
      [['w1', 'sig', null]],
      [['w1', 'sig', null]],
      [['w2', 'sig', null]],
      [['w2', 'sig', null]],
      null,
      null,
    ])
  })
})
