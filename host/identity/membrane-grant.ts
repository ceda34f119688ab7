/**
 * A membrane proof's grant, signed and checked: an admin signs a grant (an invite's) over its canonical
 * encoding, and every peer checks that signature the same way before the rules judge what the grant
 * says (conductor/embedded/validation/membrane-proof.ts). Invites make and read these; the conductor
 * carries them in geneses.
 */
import { encodeCanonical } from './canonical.ts'
import { decodeHashB64 } from './hash.ts'
import { type AgentKey, verifyAgentSignature } from './keystore.ts'

/** The grant an admin signed (its fields are checked by the rules) and the signature, base64. */
export interface MembraneProof {
  grant: { issuer: string } & Record<string, unknown>
  signature: string
}

/** The signature (base64) of `grant`'s canonical encoding by `key`, its issuer. */
export function signGrant(grant: MembraneProof['grant'], key: AgentKey): string {
  return Buffer.from(key.sign(encodeCanonical(grant))).toString('base64')
}

/** True when `signature` (base64) is the grant's issuer's signature of its canonical encoding. */
export function grantSignedByIssuer(grant: MembraneProof['grant'], signature: string): boolean {
  try {
    const issuer = decodeHashB64(grant.issuer, 'agent')
    return verifyAgentSignature(issuer, encodeCanonical(grant), Buffer.from(signature, 'base64'))
  } catch {
    return false
  }
}
