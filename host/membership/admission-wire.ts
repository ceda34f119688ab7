/**
 * The `admit/1.0.0` exchange: a machine holding a witnessed invite asks a member it reaches to witness
 * its redemption before it writes its genesis. The request is the invite's grant and signature (no
 * secret); the agent asking is the connection's own (its peer id is its agent key, proven by the
 * connection's handshake), so the request carries no key of its own. The answer is the member's signed
 * statement, or why not. Served to every peer of the network, members or not: it is how one becomes one.
 *
 * A joiner has no store yet to tell a member from a peer that only holds the network key, so a witness
 * sends, with its statement or its refusal of the invite, the proofs that it is a member (`member`: its
 * genesis' membrane proof, and those of the admins and witnesses that proof names, back to the
 * progenitor, member-proof.ts). Optional: the progenitor needs none (the network file names it).
 */
import { z } from 'zod'
import { AgentPubKeyB64Schema, InviteIdSchema } from '../../zomes-bindings/index.ts'
import { parseWireJson } from '../interface/nesting-depth.ts'
import { InviteGrantSchema } from './invite-schema.ts'

export const ADMIT_PROTOCOL = 'admit/1.0.0'

const SignatureSchema = z.string().regex(/^[A-Za-z0-9+/]{86}==$/)

export const AdmitRequestSchema = z.strictObject({ grant: InviteGrantSchema, signature: SignatureSchema })
export type AdmitRequest = z.infer<typeof AdmitRequestSchema>

export const SignedWitnessSchema = z.strictObject({
  statement: z.strictObject({
    network_id: z.string().regex(/^[0-9a-f]{64}$/),
    invite_id: InviteIdSchema,
    agent: AgentPubKeyB64Schema,
    witnessed_at: z.number().int().nonnegative(),
    witness: AgentPubKeyB64Schema,
  }),
  signature: SignatureSchema,
})

/** The most membrane proofs one answer carries: a chain of witnesses and issuers back to the progenitor. */
export const MAX_MEMBER_PROOFS = 32

/** An agent's genesis membrane proof (the grant, its issuer's signature, the witness statement if any). */
export const MemberProofSchema = z.strictObject({
  agent: AgentPubKeyB64Schema,
  grant: InviteGrantSchema,
  signature: SignatureSchema,
  witness: SignedWitnessSchema.optional(),
})
export type MemberProof = z.infer<typeof MemberProofSchema>

/** What shows the answering peer a member: the proofs of it and of those its proof names. */
export const MemberProofsSchema = z.array(MemberProofSchema).max(MAX_MEMBER_PROOFS)

export const AdmitAnswerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('witnessed'),
    witness: SignedWitnessSchema,
    member: MemberProofsSchema.optional(),
  }),
  z.strictObject({
    kind: z.literal('refused'),
    why: z.string().max(2000),
    /** True when the invite itself is refused (expired, used, forged), false when only this peer cannot witness. */
    final: z.boolean(),
    /** Ask again no sooner (a witness busy with other requests). */
    retry_after_ms: z.number().int().nonnegative().max(3_600_000).optional(),
    member: MemberProofsSchema.optional(),
  }),
])
export type AdmitAnswer = z.infer<typeof AdmitAnswerSchema>

export const encodeWire = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

/** Parses a frame with `schema`; null when it is not JSON of that shape. */
export function decodeWire<T>(schema: z.ZodType<T>, bytes: Uint8Array): T | null {
  try {
    const parsed = schema.safeParse(parseWireJson(new TextDecoder().decode(bytes), 'an admission frame'))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
