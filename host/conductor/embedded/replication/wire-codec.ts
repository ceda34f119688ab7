/**
 * Peer messages are msgpack; what comes off the wire is checked against a zod schema before any
 * field is used, so a malformed message fails here, as a MalformedMessageError, and nowhere deeper.
 */
import { z } from 'zod'
import { decodeMsgpack, encodeCanonical } from '../../../identity/canonical.ts'
import { MalformedMessageError } from './errors.ts'

export const bytesSchema = z.instanceof(Uint8Array)

export function encodeMessage(value: unknown): Uint8Array {
  return encodeCanonical(value)
}

export function decodeMessage<S extends z.ZodType>(schema: S, bytes: Uint8Array, what: string): z.output<S> {
  let value: unknown
  try {
    value = decodeMsgpack(bytes)
  } catch (err) {
    throw new MalformedMessageError(what, (err as Error).message)
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new MalformedMessageError(what, parsed.error.issues[0]?.message ?? 'invalid')
  return parsed.data
}
