/**
 * Membrane proofs, as Holochain carries them: serialized bytes in the genesis AgentValidationPkg. Ours
 * is an invite grant with its issuer's Ed25519 signature and, for a witnessed invite, the statement of
 * the member that witnessed its redemption, with that member's signature. The host checks the
 * signatures (as it checks every action's); the rules (`MembraneProof`, dnas/rules/src/membrane.rs)
 * judge what the grant and the statement say.
 */

import { decodeMsgpack, encodeCanonical } from '../../../identity/canonical.ts'
import { grantSignedByIssuer, type MembraneProof, witnessSigned } from '../../../identity/membrane-grant.ts'
import { InvalidEntryError } from './validator.ts'

/** The entry type name under which the rules judge a genesis' membrane proof. */
export const MEMBRANE_PROOF_ENTRY_TYPE = 'MembraneProof'

export const encodeMembraneProof = (proof: MembraneProof): Uint8Array => encodeCanonical(proof)

/**
 * What the rules are given for a genesis written at `genesisAt` (µs): the proof, once its signature
 * verified. Throws InvalidEntryError for bytes that are not a signed grant.
 */
export function membraneRulesEntry(
  bytes: unknown,
  genesisAt: number,
): { proof: unknown; genesis_at: number } {
  if (bytes === null || bytes === undefined) return { proof: null, genesis_at: genesisAt }
  let proof: unknown
  try {
    proof = bytes instanceof Uint8Array ? decodeMsgpack(bytes) : null
  } catch {
    proof = null
  }
  const p = proof as Partial<MembraneProof> | null
  if (
    typeof p?.grant?.issuer !== 'string' ||
    typeof p.signature !== 'string' ||
    !grantSignedByIssuer(p.grant, p.signature)
  ) {
    throw new InvalidEntryError(
      'sys.membrane_proof',
      'the membrane proof is not a grant signed by its issuer',
    )
  }
  if (p.witness !== undefined && p.witness !== null && !witnessSigned(p.witness)) {
    throw new InvalidEntryError(
      'sys.membrane_witness',
      'the witness statement of the membrane proof is not signed by its witness',
    )
  }
  return { proof, genesis_at: genesisAt }
}

/** The agent that witnessed the redemption of a membrane proof's invite, or null (none, or unreadable). */
export function witnessOf(proof: unknown): string | null {
  const witness = (proof as Partial<MembraneProof> | null)?.witness?.statement?.witness
  return typeof witness === 'string' ? witness : null
}

/**
 * When a genesis' invite was redeemed (µs): by its witness's clock, or for an unwitnessed grant (0.1.0)
 * the genesis' own time. Uses of one invite are ordered by this.
 */
export function redeemedAt(proof: unknown, genesisAt: number): number {
  const at = (proof as Partial<MembraneProof> | null)?.witness?.statement?.witnessed_at
  return typeof at === 'number' ? at : genesisAt
}

/** The invite id a membrane proof's grant names (what revocations of an unused invite match), or null. */
export function inviteIdOf(proof: unknown): string | null {
  const id = (proof as Partial<MembraneProof> | null)?.grant?.invite_id
  return typeof id === 'string' ? id : null
}

/** How many agents a membrane proof's grant admits (a grant that names none admits one). */
export function inviteUsesOf(proof: unknown): number {
  const uses = (proof as Partial<MembraneProof> | null)?.grant?.uses
  return typeof uses === 'number' ? uses : 1
}

/** A genesis held that cites an invite: whose, and when it was redeemed (`redeemedAt`, µs). */
export interface InviteUse {
  agent: string
  at: number
}

/**
 * How many of `uses` (the geneses citing one invite) came before `agent`'s, redeemed at `at`: the
 * earlier witnessed first (a backdated genesis gains nothing), the lesser agent key on a tie, so every
 * peer holding the same geneses counts the same.
 */
export function usesBefore(uses: readonly InviteUse[], agent: string, at: number): number {
  return uses.filter((u) => u.agent !== agent && (u.at < at || (u.at === at && u.agent < agent))).length
}
