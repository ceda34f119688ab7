/**
 * A grant signed by its issuer checks whatever order its fields were built in (the canonical
 * encoding), and a grant changed after signing, another issuer, or an issuer that is no agent key does not.
 */
import { describe, expect, it } from 'vitest'
import { decodeMsgpack, encodeCanonical } from '../../../host/identity/canonical.ts'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { openAgentKey } from '../../../host/identity/keystore.ts'
import { grantSignedByIssuer, signGrant } from '../../../host/identity/membrane-grant.ts'
import { tempDir } from '../conductor/fixtures/test-cell.ts'

describe('membrane grants', () => {
  it("checks the issuer's signature over the canonical encoding, and nothing else", async () => {
    const admin = await openAgentKey(await tempDir())
    const other = await openAgentKey(await tempDir())
    const issuer = encodeHashB64(admin.agentPubKey)
    const grant = { issuer, role: 'member', uses: 2 }
    const signature = signGrant(grant, admin)
    expect(grantSignedByIssuer({ uses: 2, role: 'member', issuer }, signature)).toBe(true)
    expect(grantSignedByIssuer({ ...grant, uses: 3 }, signature)).toBe(false)
    expect(grantSignedByIssuer({ ...grant, issuer: encodeHashB64(other.agentPubKey) }, signature)).toBe(false)
    expect(grantSignedByIssuer({ ...grant, issuer: 'not an agent' }, signature)).toBe(false)
  })

  it('encodes equal content to equal bytes, undefined fields dropped, and decodes it back', () => {
    const a = encodeCanonical({ b: 1, a: [2, 'x'], c: undefined })
    expect(encodeCanonical({ a: [2, 'x'], b: 1 })).toEqual(a)
    expect(decodeMsgpack(a)).toEqual({ a: [2, 'x'], b: 1 })
  })
})
