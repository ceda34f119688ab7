/** The pure checks behind the embedded conductor's Holochain API: Origin, app tokens, nonces, grants. */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AppAuthTokenStore } from '../../../host/conductor/embedded/websocket-api/app-auth-tokens.ts'
import { originAllowed } from '../../../host/conductor/embedded/websocket-api/ws-listener.ts'
import {
  CapGrantStore,
  NonceTracker,
  type ZomeCallCapGrant,
  type ZomeCallParams,
} from '../../../host/conductor/embedded/websocket-api/zome-call-auth.ts'

describe('originAllowed (holochain_types websocket AllowedOrigins)', () => {
  it.each([
    ['*', 'https://anything.example', true],
    ['*', undefined, false],
    ['ripple-host', 'ripple-host', true],
    ['ripple-host', 'ripple-host2', false],
    ['a, ripple-host ,b', 'ripple-host', true],
    ['a,b', 'c', false],
  ])('%j allows %j: %s', (allowed, origin, expected) => {
    expect(originAllowed(allowed, origin)).toBe(expected)
  })
})

describe('AppAuthTokenStore', () => {
  it('issues 64-byte tokens that expire (default 30 s, 0 = never) and are single use by default', () => {
    let now = 1_000_000_000
    const store = new AppAuthTokenStore(() => now)
    const once = store.issue({ installed_app_id: 'ripple' })
    const forever = store.issue({ installed_app_id: 'ripple', expiry_seconds: 0, single_use: false })
    expect(once.token).toHaveLength(64)
    expect(once.expires_at).toBe(now + 30_000_000)
    expect(forever.expires_at).toBeNull()
    expect(store.authenticate(Uint8Array.from(once.token), null)).toBe('ripple')
    expect(store.authenticate(Uint8Array.from(once.token), null)).toBeNull()
    const late = store.issue({ installed_app_id: 'ripple', expiry_seconds: 5 })
    now += 5_000_000
    expect(store.authenticate(Uint8Array.from(late.token), null)).toBeNull()
    expect(store.authenticate(Uint8Array.from(forever.token), null)).toBe('ripple')
    expect(store.authenticate(Uint8Array.from(forever.token), null)).toBe('ripple')
  })

  it('refuses a token for another app on a bound interface, and spends it all the same', () => {
    const store = new AppAuthTokenStore()
    const { token } = store.issue({ installed_app_id: 'other' })
    expect(store.authenticate(Uint8Array.from(token), 'ripple')).toBeNull()
    expect(store.authenticate(Uint8Array.from(token), null)).toBeNull()
  })
})

const agent = (byte: number) => Uint8Array.of(0x84, 0x20, 0x24, ...new Array(36).fill(byte))

function params(overrides: Partial<ZomeCallParams> = {}): ZomeCallParams {
  return {
    provenance: agent(2),
    cell_id: [agent(9), agent(1)],
    zome_name: 'agent_registry',
    fn_name: 'list_nodes',
    cap_secret: null,
    payload: null,
    nonce: new Uint8Array(32),
    expires_at: 2_000,
    ...overrides,
  }
}

describe('NonceTracker (holochain_state nonce.rs)', () => {
  it.each([
    ['expired', 1_000, 'Expired'],
    ['too far ahead', 1_000 + 50 * 60 * 1_000_000 + 1, 'Future'],
  ])('refuses a call %s', (_, expiresAt, why) => {
    expect(() => new NonceTracker().check(params({ expires_at: expiresAt }), 1_000)).toThrow(
      `BadNonce(${why})`,
    )
  })

  it('refuses a nonce seen before until its call expires', () => {
    const tracker = new NonceTracker()
    tracker.check(params(), 1_000)
    expect(() => tracker.check(params(), 1_500)).toThrow('BadNonce(Duplicate)')
    expect(() => tracker.check(params({ provenance: agent(3) }), 1_500)).not.toThrow()
    tracker.check(params({ expires_at: 5_000 }), 2_500)
  })
})

describe('CapGrantStore (valid_cap_grant)', () => {
  const secret = randomBytes(64)
  const assigned = (functions: ZomeCallCapGrant['functions']): ZomeCallCapGrant => ({
    tag: 'zome-call-signing-key',
    access: { type: 'assigned', value: { secret, assignees: [agent(2)] } },
    functions,
  })

  it('lets the cell agent call anything without a grant', () => {
    expect(() =>
      new CapGrantStore().authorize('dna', agent(1), params({ provenance: agent(1) })),
    ).not.toThrow()
  })

  it('honours an assigned grant only for its assignee, secret and functions', () => {
    const store = new CapGrantStore()
    store.grant('dna', assigned({ type: 'listed', value: [['agent_registry', 'list_nodes']] }), 0)
    const ok = params({ cap_secret: secret })
    expect(() => store.authorize('dna', agent(1), ok)).not.toThrow()
    expect(() => store.authorize('dna', agent(1), { ...ok, fn_name: 'get_capability' })).toThrow(
      'BadCapGrant',
    )
    expect(() => store.authorize('dna', agent(1), { ...ok, provenance: agent(3) })).toThrow('BadCapGrant')
    expect(() => store.authorize('dna', agent(1), { ...ok, cap_secret: randomBytes(64) })).toThrow(
      'BadCapGrant',
    )
    expect(() => store.authorize('other-dna', agent(1), ok)).toThrow('BadCapGrant')
  })

  it('stops honouring a revoked grant, and lists it only when asked to', () => {
    const store = new CapGrantStore()
    const hash = store.grant('dna', assigned({ type: 'all' }), 0)
    store.revoke('dna', hash, 10)
    expect(() => store.authorize('dna', agent(1), params({ cap_secret: secret }))).toThrow('BadCapGrant')
    expect(store.list('dna', false)).toEqual([])
    expect(store.list('dna', true)).toEqual([expect.objectContaining({ revoked_at: 10 })])
  })

  it('refuses a grant that is not a ZomeCallCapGrant', () => {
    const bad = {
      tag: 't',
      access: { type: 'assigned', value: { secret: new Uint8Array(3), assignees: [] } },
    }
    expect(() =>
      new CapGrantStore().grant('dna', { ...bad, functions: { type: 'all' } } as never, 0),
    ).toThrow(/not a ZomeCallCapGrant/)
  })
})
