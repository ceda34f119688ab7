/**
 * Signed ops carried beside what cites them instead of waiting for gossip: a runner's public batch on
 * the direct protocol's proof frame, so that its requester holds it the moment its proof arrives. The
 * receiver verifies them as any op a peer sends (signature, chain continuity, rules) before it stores
 * them, and blames as gossip would: the author for what it signed, the peer that carried them for what
 * its author never signed. Gossip still brings the same ops to everyone else; a second copy is a
 * duplicate, nothing more.
 */
import { z } from 'zod'
import type { DnaName } from '../../zomes-bindings/index.ts'

/** Base64url bytes of one part of an op (an action is a few hundred bytes; entries are bounded by the rules). */
const Base64Url = z
  .string()
  .max(256 * 1024)
  .regex(/^[A-Za-z0-9_-]*$/)

/** Ops as gossip carries them: [action bytes, signature, entry bytes or null], base64url, in chain order. */
export const CarriedOpsSchema = z
  .array(z.tuple([Base64Url, Base64Url, Base64Url.nullable()]))
  .min(1)
  .max(8)
export type CarriedOps = z.infer<typeof CarriedOpsSchema>

/**
 * What became of carried ops: `held` (every one stored, or held already), `refused` (one was invalid:
 * the agent to blame is warranted, as for gossip), or `waiting` for what they build on (asked of the
 * peer that carried them; until then the caller waits as it would for gossip).
 */
export type CarriedOutcome = 'held' | 'refused' | 'waiting'

export interface OpCarrier {
  /**
   * This agent's action `action` (HoloHashB64) on `dna`'s chain and the `before` actions before it, as
   * ops (a private entry withheld, as gossip withholds it); null when this agent wrote no such action.
   */
  carry(dna: DnaName, action: string, before: number): CarriedOps | null
  /** Verifies and stores ops that the agent `from` (HoloHashB64) carried here, as if it gossiped them. */
  ingest(dna: DnaName, ops: CarriedOps, from: string): CarriedOutcome
}
