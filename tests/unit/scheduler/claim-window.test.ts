import { describe, expect, it } from 'vitest'
import { claimWindowsOf, DEFAULT_CLAIM_WINDOW_MS } from '../../../host/scheduler/claim-window.ts'
import { FILL_WINDOWS } from '../../../host/scheduler/claimant-plan.ts'

describe('the claim window', () => {
  it('is the default, or the number given, with its fill window', () => {
    expect(claimWindowsOf().claimMs()).toBe(DEFAULT_CLAIM_WINDOW_MS)
    const polled = claimWindowsOf(2_000)
    expect([polled.claimMs(), polled.fillMs()]).toEqual([2_000, 2_000 * FILL_WINDOWS])
  })

  it('follows a function as it changes (a mesh whose records become sharded)', () => {
    let sharded = false
    const windows = claimWindowsOf(() => (sharded ? 2_000 : DEFAULT_CLAIM_WINDOW_MS))
    expect(windows.fillMs()).toBe(DEFAULT_CLAIM_WINDOW_MS * FILL_WINDOWS)
    sharded = true
    expect([windows.claimMs(), windows.fillMs()]).toEqual([2_000, 2_000 * FILL_WINDOWS])
  })
})
