/**
 * The wire of `record/1.0.0`, a get from holders: the asker names a DNA and an action hash; the holder
 * answers the op as replication carries it (op-wire.ts), or none.
 */
import { z } from 'zod'
import type { WireOp } from './op-wire.ts'
import { toWireTuples, wireOpsSchema } from './op-wire.ts'
import { bytesSchema, decodeMessage, encodeMessage } from './wire-codec.ts'

/** Members only: what a mesh records is its members' to read. */
export const RECORD_GET_PROTOCOL = 'record/1.0.0'

/** A HoloHash: 3 bytes of kind, 32 of hash, 4 of location. */
const holoHash = bytesSchema.refine((bytes) => bytes.length === 39, 'not a 39-byte hash')

const requestSchema = z.object({ v: z.literal(1), dna: holoHash, action: holoHash })
/** One op, or none: the holder does not hold it (or will not serve its author). */
const answerSchema = z.object({ ops: wireOpsSchema.refine((ops) => ops.length <= 1, 'more than one op') })

export interface RecordGetRequest {
  dnaHash: Uint8Array
  actionHash: Uint8Array
}

export function encodeRecordGet(request: RecordGetRequest): Uint8Array {
  return encodeMessage({ v: 1, dna: request.dnaHash, action: request.actionHash })
}

/** Throws MalformedMessageError unless `bytes` is a record get. */
export function decodeRecordGet(bytes: Uint8Array): RecordGetRequest {
  const request = decodeMessage(requestSchema, bytes, 'record get')
  return { dnaHash: request.dna, actionHash: request.action }
}

export function encodeRecordAnswer(op: WireOp | null): Uint8Array {
  return encodeMessage({ ops: toWireTuples(op === null ? [] : [op]) })
}

/** The op answered, or null; throws MalformedMessageError unless `bytes` is an answer. */
export function decodeRecordAnswer(bytes: Uint8Array): WireOp | null {
  return decodeMessage(answerSchema, bytes, 'record answer').ops[0] ?? null
}
