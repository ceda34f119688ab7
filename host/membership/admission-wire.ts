/**
 * The `admit/1.0.0` exchange: a machine holding a witnessed invite asks a member it reaches to witness
 * its redemption before it writes its genesis. The request is the invite's grant and signature (no
 * secret); the agent asking is the connection's own (its peer id is its agent key, proven by the
 * connection's handshake), so the request carries no key of its own. The answer is the member's signed
 * statement, or why not. Served to every peer of the network, members or not: it is how one becomes one.
 */
import { z } from 'zod'
import { AgentPubKeyB64Schema, InviteIdSchema } from '../../zomes-bindings/index.ts'
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

export const AdmitAnswerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('witnessed'), witness: SignedWitnessSchema }),
  z.strictObject({
    kind: z.literal('refused'),
    why: z.string().max(2000),
    /** True when the invite itself is refused (expired, used, forged), false when only this peer cannot witness. */
    final: z.boolean(),
  }),
])
export type AdmitAnswer = z.infer<typeof AdmitAnswerSchema>

export const encodeWire = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

/** Parses a frame with `schema`; null when it is not JSON of that shape. */
export function decodeWire<T>(schema: z.ZodType<T>, bytes: Uint8Array): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(new TextDecoder().decode(bytes)))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
