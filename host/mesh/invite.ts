/**
 * Invites to a private mesh. An invite carries what a new peer needs to connect (the network file,
 * pre-shared key included: a secret) and a grant signed by an admin of the mesh: which network, which
 * role, until when, and a one-time id. The grant is what a membrane proof will be (issue 17): it holds
 * no secret, so it can be published on a chain; the network file never is.
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { AgentPubKeyB64Schema, InviteIdSchema } from '../../zomes-bindings/index.ts'
import { encodeCanonical } from '../conductor/embedded/action.ts'
import { grantSignedByIssuer, type MembraneProof } from '../conductor/embedded/validation/membrane-proof.ts'
import { type NetworkConfig, NetworkConfigSchema, progenitorOf } from '../config/network-config.ts'
import { encodeHashB64 } from '../identity/hash.ts'
import type { AgentKey } from '../identity/keystore.ts'
import { networkIdentity } from '../net/network-identity.ts'

export const INVITE_ROLES = ['member', 'worker', 'admin'] as const
export type InviteRole = (typeof INVITE_ROLES)[number]

/** What the admin signs. */
export const InviteGrantSchema = z.strictObject({
  /** Hex sha256 of the network's name and seed (its handshake id). */
  network_id: z.string().regex(/^[0-9a-f]{64}$/),
  role: z.enum(INVITE_ROLES),
  /** 16 random bytes, hex: names this invite, once. */
  invite_id: InviteIdSchema,
  /** Milliseconds since the Unix epoch. */
  issued_at: z.number().int().nonnegative(),
  expires_at: z.number().int().nonnegative(),
  issuer: AgentPubKeyB64Schema,
})
export type InviteGrant = z.infer<typeof InviteGrantSchema>

export const InviteSchema = z.strictObject({
  ripple_invite: z.literal(1),
  network: NetworkConfigSchema,
  grant: InviteGrantSchema,
  /** Ed25519 signature of the grant's canonical encoding by `grant.issuer`, base64. */
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/),
})
export type Invite = z.infer<typeof InviteSchema>

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
  }
  const signature = Buffer.from(key.sign(encodeCanonical(grant))).toString('base64')
  return { ripple_invite: 1, network: request.network, grant, signature }
}

/**
 * Parses and checks an invite: its shape, the issuer's signature, that the grant is for the network it
 * carries and was issued by that network's progenitor, and that it has not expired.
 */
export function verifyInvite(text: string, now = Date.now()): Invite {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new InvalidInviteError('the invite is not JSON: pass the file `ripple invite create` wrote')
  }
  const parsed = InviteSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new InvalidInviteError(`the invite is malformed: ${issue?.path.join('.')}: ${issue?.message}`)
  }
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
