/**
 * A membrane proof's grant, signed and checked: an admin signs a grant (an invite's) over its canonical
 * encoding, and every peer checks that signature the same way before the rules judge what the grant
 * says (conductor/embedded/validation/membrane-proof.ts). A witnessed invite's proof also carries the
 * statement of the member that witnessed its redemption, signed the same way by that member. Invites
 * make and read these; the conductor carries them in geneses.
 */
import { encodeCanonical } from './canonical.ts'
import { decodeHashB64 } from './hash.ts'
import { type AgentKey, verifyAgentSignature } from './keystore.ts'

/** What a member signs when it witnesses an invite's redemption (membership/admission-witness.ts). */
export interface WitnessStatement {
  network_id: string
  invite_id: string
  /** The agent that redeemed it: the only one whose genesis the statement admits. */
  agent: string
  /** When, by the witness's clock: microseconds since the epoch, as action timestamps. */
  witnessed_at: number
  witness: string
}

/** A witness statement and its signature by `statement.witness`, base64. */
export interface SignedWitness {
  statement: WitnessStatement
  signature: string
}

/** The grant an admin signed (its fields are checked by the rules) and the signature, base64. */
export interface MembraneProof {
  grant: { issuer: string } & Record<string, unknown>
  signature: string
  /** The member's witness of the redemption (a grant that says `witnessed` needs one). */
  witness?: SignedWitness
}

/** The signature (base64) of `grant`'s canonical encoding by `key`, its issuer. */
export function signGrant(grant: MembraneProof['grant'], key: AgentKey): string {
  return Buffer.from(key.sign(encodeCanonical(grant))).toString('base64')
}

/** True when `signature` (base64) is the grant's issuer's signature of its canonical encoding. */
export const grantSignedByIssuer = (grant: MembraneProof['grant'], signature: string): boolean =>
  signedBy(grant.issuer, grant, signature)

/** The witness's signature (base64) of its statement's canonical encoding. */
export const signStatement = (statement: WitnessStatement, key: AgentKey): string =>
  Buffer.from(key.sign(encodeCanonical(statement))).toString('base64')

/** True when `witness` is a statement signed by the agent it names as witness. */
export function witnessSigned(witness: unknown): witness is SignedWitness {
  const w = witness as Partial<SignedWitness> | null
  return (
    typeof w?.signature === 'string' &&
    typeof w.statement?.witness === 'string' &&
    signedBy(w.statement.witness, w.statement, w.signature)
  )
}

function signedBy(agent: string, value: unknown, signature: string): boolean {
  try {
    return verifyAgentSignature(
      decodeHashB64(agent, 'agent'),
      encodeCanonical(value),
      Buffer.from(signature, 'base64'),
    )
  } catch {
    return false
  }
}
