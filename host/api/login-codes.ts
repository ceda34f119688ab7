/**
 * One-time login codes: `ripple up` prints a dashboard link carrying one instead of the API token,
 * and `POST /api/session` trades it for the token once. A code is random (256 bits), works once
 * and expires, so a link left in a terminal's scrollback or a shell history is soon worthless.
 */
import { randomBytes } from 'node:crypto'

export const LOGIN_CODE_TTL_MS = 10 * 60_000

export class LoginCodes {
  readonly #expiries = new Map<string, number>()
  readonly #ttlMs: number
  readonly #now: () => number

  constructor(ttlMs = LOGIN_CODE_TTL_MS, now: () => number = Date.now) {
    this.#ttlMs = ttlMs
    this.#now = now
  }

  /** A fresh code, valid once for `ttlMs`. */
  issue(): string {
    this.#forgetExpired()
    const code = randomBytes(32).toString('base64url')
    this.#expiries.set(code, this.#now() + this.#ttlMs)
    return code
  }

  /** True (and the code is spent) when `code` was issued, is unused and has not expired. */
  redeem(code: string): boolean {
    const expiry = this.#expiries.get(code)
    this.#expiries.delete(code)
    return expiry !== undefined && this.#now() < expiry
  }

  #forgetExpired(): void {
    const now = this.#now()
    for (const [code, expiry] of this.#expiries) if (expiry <= now) this.#expiries.delete(code)
  }
}
