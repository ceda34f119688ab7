/**
 * The shape of an invite to a private mesh: the network file it carries (pre-shared key included: a
 * secret) and the grant an admin of the mesh signed (which network, which role, until when, an
 * id, how many machines it admits). Schemas only: the API contract (and so the browser dashboard) imports them; making and checking
 * an invite is `invite.ts`.
 */
import { z } from 'zod'
import { AgentPubKeyB64Schema, InviteIdSchema } from '../../zomes-bindings/index.ts'
import { NetworkConfigSchema } from '../config/network-schema.ts'

export const INVITE_ROLES = ['member', 'worker', 'admin'] as const
/** The most machines one invite may admit (`ripple invite create --uses`). */
export const MAX_INVITE_USES = 1000
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
  /** How many machines it admits (the rules refuse a genesis past them); absent: one. */
  uses: z.number().int().min(1).max(MAX_INVITE_USES).optional(),
  /**
   * Redeemed only with a member's witness, which judges expiry and use by its own clock and record
   * (release 0.2.0 on; a 0.1.0 peer refuses a grant with it, so it is written once every member reads it).
   */
  witnessed: z.literal(true).optional(),
})
export type InviteGrant = z.infer<typeof InviteGrantSchema>

/** A release number, as `package.json` writes it. */
export const ReleaseNumberSchema = z.string().regex(/^\d{1,6}\.\d{1,6}\.\d{1,6}$/)

export const InviteSchema = z.strictObject({
  /**
   * The oldest release that can redeem it, first in the file for the person who opens it; written only
   * above 0.1.0 (a witnessed grant), since 0.1.0 refuses any key it does not know and an invite it can
   * read must carry none. A release older than it says so, in place of finding the invite malformed.
   */
  needs_release: ReleaseNumberSchema.optional(),
  ripple_invite: z.literal(1),
  network: NetworkConfigSchema,
  grant: InviteGrantSchema,
  /** Ed25519 signature of the grant's canonical encoding by `grant.issuer`, base64. */
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/),
})
export type Invite = z.infer<typeof InviteSchema>
