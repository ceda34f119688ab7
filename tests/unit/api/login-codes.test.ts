import { describe, expect, it } from 'vitest'
import { LoginCodes } from '../../../host/api/login-codes.ts'

describe('LoginCodes', () => {
  it('redeems a code once, before it expires, and nothing it did not issue', () => {
    let now = 1_000
    const codes = new LoginCodes(60_000, () => now)
    const code = codes.issue()
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(codes.redeem('made-up')).toBe(false)
    expect(codes.redeem(code)).toBe(true)
    expect(codes.redeem(code)).toBe(false)

    const late = codes.issue()
    now += 60_000
    expect(codes.redeem(late)).toBe(false)
  })
})
