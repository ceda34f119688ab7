/**
 * Ops as they travel between peers: the action bytes exactly as hashed and signed, the signature,
 * and the entry bytes a Create/Update wrote. Nothing is sent that the receiver could not recompute
 * or check: the action hash is the hash of the bytes, the entry must match the signed entry hash,
 * and the author is the one inside the signed action.
 */
import { z } from 'zod'
import type { StoredAction, StoredEntry } from '../../../storage/chain-store.ts'
import { decodeAction, writesPrivateEntry } from '../action.ts'
import { bytesSchema, decodeMessage, encodeMessage } from './wire-codec.ts'

export interface WireOp {
  /** msgpack of the action content: what was hashed and signed. */
  action: Uint8Array
  signature: Uint8Array
  /** The entry bytes of a Create/Update (an agent entry: the agent key), else null. */
  entry: Uint8Array | null
}

/** Ops of one DNA, in chain order per author: one commit when gossiped, a range when caught up. */
export interface OpBatch {
  dnaHash: Uint8Array
  ops: WireOp[]
}

/** [action, signature, entry | null]: positional, as ops are the bulk of the traffic. */
export const wireOpsSchema = z
  .array(z.tuple([bytesSchema, bytesSchema, bytesSchema.nullable()]))
  .transform((tuples) => tuples.map(([action, signature, entry]): WireOp => ({ action, signature, entry })))

const opBatchSchema = z.object({ v: z.literal(1), dna: bytesSchema, ops: wireOpsSchema })

/** The op as peers get it: a private entry is withheld (its hash is in the signed action). */
export function wireOpOf(action: StoredAction, entry: StoredEntry | null): WireOp {
  const withheld = entry !== null && writesPrivateEntry(decodeAction(action.bytes))
  return {
    action: action.bytes,
    signature: action.signature,
    entry: withheld ? null : (entry?.bytes ?? null),
  }
}

export function toWireTuples(ops: WireOp[]): [Uint8Array, Uint8Array, Uint8Array | null][] {
  return ops.map((op) => [op.action, op.signature, op.entry])
}

export function encodeOpBatch(batch: OpBatch): Uint8Array {
  return encodeMessage({ v: 1, dna: batch.dnaHash, ops: toWireTuples(batch.ops) })
}

/** Throws MalformedMessageError unless `bytes` is an op batch. */
export function decodeOpBatch(bytes: Uint8Array): OpBatch {
  const batch = decodeMessage(opBatchSchema, bytes, 'op batch')
  return { dnaHash: batch.dna, ops: batch.ops }
}
