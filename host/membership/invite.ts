/**
 * Invites to a private mesh. An invite carries what a new peer needs to connect (the network file,
 * pre-shared key included: a secret) and a grant signed by an admin of the mesh: which network, which
 * role, until when, and a one-time id. The grant is what a membrane proof will be (issue 17): it holds
 * no secret, so it can be published on a chain; the network file never is.
 */
import { randomBytes } from 'node:crypto'
import type { z } from 'zod'
import { progenitorOf } from '../config/network-config.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import { encodeHashB64 } from '../identity/hash.ts'
import type { AgentKey } from '../identity/keystore.ts'
import { grantSignedByIssuer, type MembraneProof, signGrant } from '../identity/membrane-grant.ts'
import { PROTOCOLS, RELEASE } from '../interface/release.ts'
import { compareReleases, newerFormatText } from '../interface/version-gap.ts'
import { networkIdentity } from '../net/network-identity.ts'
import { nowMs } from '../runtime/clock.ts'
import {
  type Invite,
  type InviteGrant,
  type InviteRole,
  InviteSchema,
  ReleaseNumberSchema,
} from './invite-schema.ts'

/** Thrown when an invite cannot be used: unreadable, forged, for another network, or expired. */
export class InvalidInviteError extends Error {
  static override readonly name = 'InvalidInviteError'
  constructor(message: string) {
    super(message)
    this.name = 'InvalidInviteError'
  }
}

/** The invite as the membrane proof of the joining agent's genesis: the grant and its signature, no secret. */
export const membraneProofOf = (invite: Invite): MembraneProof => ({
  grant: invite.grant,
  signature: invite.signature,
})

export const networkIdHex = (network: NetworkConfig) =>
  Buffer.from(networkIdentity(network).id).toString('hex')

export interface InviteRequest {
  network: NetworkConfig
  role: InviteRole
  expiresInMs: number
  /** How many machines it admits (default one). */
  uses?: number
  /** Redeemed only with a member's witness (every member reads such a grant). */
  witnessed?: boolean
  now?: number
}

/** A new invite to `network`, signed with `key` (an admin's). */
export function createInvite(request: InviteRequest, key: AgentKey): Invite {
  const issuedAt = request.now ?? Date.now()
  const grant: InviteGrant = {
    network_id: networkIdHex(request.network),
    role: request.role,
    invite_id: randomBytes(16).toString('hex'),
    issued_at: issuedAt,
    expires_at: issuedAt + request.expiresInMs,
    issuer: encodeHashB64(key.agentPubKey),
    uses: request.uses ?? 1,
    ...(request.witnessed === true ? { witnessed: true as const } : {}),
  }
  const needs = releaseNeededBy(grant)
  return {
    ...(needs === FIRST_RELEASE ? {} : { needs_release: needs }),
    ripple_invite: 1,
    network: request.network,
    grant,
    signature: signGrant(grant, key),
  }
}

/** The release every invite format so far is read by; an invite it can read says nothing of releases. */
const FIRST_RELEASE = '0.1.0'
/** The release that first reads a witnessed grant (admission 2). */
export const WITNESSED_SINCE = '0.2.0'

/** The oldest release that can redeem an invite with `grant`. */
export const releaseNeededBy = (grant: InviteGrant): string =>
  grant.witnessed === true ? WITNESSED_SINCE : FIRST_RELEASE

/**
 * Why an invite cannot be redeemed by this release when it says it needs a newer one; looked at before
 * the strict parse, which would only call it malformed.
 */
function newerReleaseRefusal(json: unknown): string | null {
  const needs =
    typeof json === 'object' && json !== null ? (json as Record<string, unknown>).needs_release : null
  if (typeof needs !== 'string' || !ReleaseNumberSchema.safeParse(needs).success) return null
  if (compareReleases(needs, RELEASE) <= 0) return null
  return `this invite needs Ripple ${needs} or later, and this peer runs Ripple ${RELEASE}: upgrade this peer, then join with the same invite`
}

/** The words for a parse that failed, naming the fields this release does not know where that is why. */
function malformedText(issues: readonly z.core.$ZodIssue[]): string {
  const issue = issues[0]
  const text = `the invite is malformed: ${issue?.path.join('.')}: ${issue?.message}`
  if (issue?.code !== 'unrecognized_keys') return text
  return `${text} (a field Ripple ${RELEASE} does not know: if a newer Ripple made this invite, upgrade this peer)`
}

/**
 * Why an invite cannot be read here when a newer release made it (its `ripple_invite` above the format
 * this release reads); looked at before the strict parse, which would only call it malformed.
 */
function newerFormatRefusal(json: unknown): string | null {
  const format =
    typeof json === 'object' && json !== null ? (json as Record<string, unknown>).ripple_invite : null
  if (typeof format !== 'number' || format <= PROTOCOLS.invite) return null
  return newerFormatText('this invite was made', `invite format ${format}`, PROTOCOLS.invite, RELEASE)
}

/**
 * Parses and checks an invite: its shape, the issuer's signature, that the grant is for the network it
 * carries and was issued by that network's progenitor, and that it has not expired.
 */
export function verifyInvite(text: string, now = nowMs()): Invite {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new InvalidInviteError('the invite is not JSON: pass the file `ripple invite create` wrote')
  }
  const newer = newerFormatRefusal(json) ?? newerReleaseRefusal(json)
  if (newer !== null) throw new InvalidInviteError(newer)
  const parsed = InviteSchema.safeParse(json)
  if (!parsed.success) throw new InvalidInviteError(malformedText(parsed.error.issues))
  const invite = parsed.data
  const { grant } = invite
  if (!grantSignedByIssuer(grant, invite.signature))
    throw new InvalidInviteError(`invite ${grant.invite_id} is not signed by its issuer`)
  if (grant.network_id !== networkIdHex(invite.network)) {
    throw new InvalidInviteError(`invite ${grant.invite_id} is for another network than the one it carries`)
  }
  if (progenitorOf(invite.network) !== grant.issuer) {
    throw new InvalidInviteError(`invite ${grant.invite_id} was not issued by the admin of its network`)
  }
  if (now >= grant.expires_at) {
    throw new InvalidInviteError(
      `invite ${grant.invite_id} expired at ${new Date(grant.expires_at).toISOString()}; ` +
        'ask an admin of the mesh for a new one (`ripple invite create`)',
    )
  }
  return invite
}
