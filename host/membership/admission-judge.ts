/**
 * Whether a member witnesses an invite's redemption, judged against its own clock and record (never
 * the joiner's): the grant signed and for this mesh, issued already, not expired, and not used up by
 * the agents this member knows redeemed it (the geneses it holds and the redemptions it witnessed
 * itself). Pure, so each edge has a table test; the service around it is admission-witness.ts.
 */
import type { InviteGrant } from './invite-schema.ts'

/** How far ahead of the witness's clock an invite's `issued_at` may be: the rules' (membrane.rs). */
export const ISSUED_AT_SKEW_MS = 5 * 60 * 1000

export interface Redemption {
  grant: InviteGrant
  /** Whether the grant's signature is its issuer's (a function: asked only once the free checks pass). */
  signedByIssuer: boolean | (() => boolean)
  /** The agent redeeming it (the connection's). */
  agent: string
}

export interface WitnessView {
  /** This mesh's network id (hex). */
  networkId: string
  /** This member's role: the progenitor counts as admin; null on a mesh without invites. */
  role: 'admin' | 'member' | 'worker' | null
  /** This member's clock, ms. */
  nowMs: number
  /**
   * The agents known to have redeemed the invite (held geneses and own witnessed redemptions); a
   * function, since it walks the geneses held: asked last, once every other check passed.
   */
  redeemedBy: ReadonlySet<string> | (() => ReadonlySet<string>)
}

export type Judgement = null | { why: string; final: boolean }

const at = (ms: number) => new Date(ms).toISOString()

/**
 * Null when `redemption` may be witnessed now; otherwise why not, and whether another member could.
 * The checks run cheapest first: role, network and times (free), the signature, then the uses (a walk
 * of the geneses held), so a request that fails early costs its witness next to nothing.
 */
export function judgeRedemption(r: Redemption, w: WitnessView): Judgement {
  const { grant } = r
  if (w.role !== 'admin' && w.role !== 'member') {
    return {
      why: `this peer (${w.role ?? 'on a mesh without invites'}) does not witness redemptions`,
      final: false,
    }
  }
  const invite = `invite ${grant.invite_id}`
  if (grant.network_id !== w.networkId) return { why: `${invite} is for another mesh`, final: true }
  if (grant.issued_at > w.nowMs + ISSUED_AT_SKEW_MS) {
    return {
      why: `${invite} is not valid yet: issued at ${at(grant.issued_at)}, and this member's clock says ${at(w.nowMs)}`,
      final: true,
    }
  }
  if (w.nowMs > grant.expires_at) {
    return {
      why: `${invite} expired at ${at(grant.expires_at)} by this member's clock (${at(w.nowMs)}); ask an admin for a new one`,
      final: true,
    }
  }
  const signed = typeof r.signedByIssuer === 'function' ? r.signedByIssuer() : r.signedByIssuer
  if (!signed) return { why: `${invite} is not signed by its issuer`, final: true }
  const redeemedBy = typeof w.redeemedBy === 'function' ? w.redeemedBy() : w.redeemedBy
  const others = [...redeemedBy].filter((agent) => agent !== r.agent)
  const uses = grant.uses ?? 1
  if (others.length >= uses) {
    return {
      why: `${invite} admits ${uses} machine(s) and was used already (by ${others.slice(0, 3).join(', ')}); ask an admin for a new one`,
      final: true,
    }
  }
  return null
}
