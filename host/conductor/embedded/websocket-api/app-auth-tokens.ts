/**
 * App authentication tokens, with the rules of Holochain's app_auth_token_store: 64 random bytes, kept
 * in memory only, expiring (default 30 s; 0 = never), single use by default (removed on first use even
 * when the check after it fails); expired tokens are purged on every issue and authenticate.
 */
import { randomBytes } from 'node:crypto'
import { nowMicros } from '../../../runtime/clock.ts'

const DEFAULT_EXPIRY_S = 30

export interface IssueTokenRequest {
  installed_app_id: string
  expiry_seconds?: number | null
  single_use?: boolean | null
}

export interface IssuedToken {
  /** As the conductor sends a `Vec<u8>`: an array of ints. */
  token: number[]
  /** µs since the epoch, or null for a token that never expires. */
  expires_at: number | null
}

interface TokenEntry {
  appId: string
  expiresAtUs: number | null
  singleUse: boolean
}

export class AppAuthTokenStore {
  readonly #tokens = new Map<string, TokenEntry>()
  readonly #nowUs: () => number

  constructor(nowUs: () => number = nowMicros) {
    this.#nowUs = nowUs
  }

  issue(request: IssueTokenRequest): IssuedToken {
    this.#purge()
    const token = randomBytes(64)
    const expiry = request.expiry_seconds ?? DEFAULT_EXPIRY_S
    const expiresAtUs = expiry === 0 ? null : this.#nowUs() + expiry * 1_000_000
    this.#tokens.set(token.toString('base64'), {
      appId: request.installed_app_id,
      expiresAtUs,
      singleUse: request.single_use ?? true,
    })
    return { token: [...token], expires_at: expiresAtUs }
  }

  revoke(token: Uint8Array): void {
    this.#tokens.delete(Buffer.from(token).toString('base64'))
  }

  /**
   * The app a token opens, or null (unknown, expired, or for another app than the interface's).
   * `boundAppId` is the interface's `installed_app_id`, when it has one.
   */
  authenticate(token: Uint8Array, boundAppId: string | null): string | null {
    this.#purge()
    const key = Buffer.from(token).toString('base64')
    const entry = this.#tokens.get(key)
    if (entry === undefined) return null
    if (entry.singleUse) this.#tokens.delete(key)
    if (boundAppId !== null && entry.appId !== boundAppId) return null
    return entry.appId
  }

  #purge(): void {
    const now = this.#nowUs()
    for (const [key, entry] of this.#tokens) {
      if (entry.expiresAtUs !== null && entry.expiresAtUs <= now) this.#tokens.delete(key)
    }
  }
}
