/**
 * The wire of `record/1.0.0`, gets from holders: the asker names a DNA and an action hash, and the
 * holder answers the op as replication carries it (op-wire.ts), or none; or it asks a list a zome
 * read needs (issue 57), the links on a base of one type and tag prefix (the CreateLink ops, with the
 * DeleteLinks of deleted ones when asked), or what targets a record (its Update and Delete ops), and
 * the holder answers at most MAX_LISTED ops of it, newest first, saying whether there were more.
 */
import { z } from 'zod'
import type { WireOp } from './op-wire.ts'
import { toWireTuples, wireOpsSchema } from './op-wire.ts'
import { bytesSchema, decodeMessage, encodeMessage } from './wire-codec.ts'

/** Members only: what a mesh records is its members' to read. */
export const RECORD_GET_PROTOCOL = 'record/1.0.0'

/** A HoloHash: 3 bytes of kind, 32 of hash, 4 of location. */
const holoHash = bytesSchema.refine((bytes) => bytes.length === 39, 'not a 39-byte hash')

/** Most ops a list answers: an anchor of a busy mesh's open tasks, within a quarter of a frame. */
export const MAX_LISTED = 512

const requestSchema = z.object({ v: z.literal(1), dna: holoHash, action: holoHash })
/** One op, or none: the holder does not hold it (or will not serve its author). */
const answerSchema = z.object({ ops: wireOpsSchema.refine((ops) => ops.length <= 1, 'more than one op') })

const linksAsk = z.object({
  base: holoHash,
  type: z.number().int().min(0).max(255),
  prefix: bytesSchema.refine((tag) => tag.length <= 1024, 'a tag prefix over 1 KiB'),
  deleted: z.boolean(),
})
const listSchema = z.union([
  z.object({ v: z.literal(1), dna: holoHash, links: linksAsk }),
  z.object({ v: z.literal(1), dna: holoHash, targets: holoHash }),
])
/** Each link may bring its DeleteLink: twice the bound. */
const listAnswerSchema = z.object({
  ops: wireOpsSchema.refine((ops) => ops.length <= 2 * MAX_LISTED, 'more ops than a list answers'),
  more: z.boolean(),
})

export type RecordList =
  | { kind: 'links'; base: Uint8Array; linkType: number; tagPrefix: Uint8Array; deleted: boolean }
  | { kind: 'targets'; hash: Uint8Array }

export interface RecordListAnswer {
  ops: WireOp[]
  /** The holder had more than it answered. */
  more: boolean
}

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

export function encodeRecordList(dnaHash: Uint8Array, list: RecordList): Uint8Array {
  if (list.kind === 'targets') return encodeMessage({ v: 1, dna: dnaHash, targets: list.hash })
  const { base, linkType: type, tagPrefix: prefix, deleted } = list
  return encodeMessage({ v: 1, dna: dnaHash, links: { base, type, prefix, deleted } })
}

/** A get or a list; throws MalformedMessageError unless `bytes` is one. */
export function decodeRecordAsk(
  bytes: Uint8Array,
): ({ kind: 'get' } & RecordGetRequest) | { kind: 'list'; dnaHash: Uint8Array; list: RecordList } {
  const ask = decodeMessage(z.union([requestSchema, listSchema]), bytes, 'record get')
  if ('action' in ask) return { kind: 'get', dnaHash: ask.dna, actionHash: ask.action }
  if ('targets' in ask)
    return { kind: 'list', dnaHash: ask.dna, list: { kind: 'targets', hash: ask.targets } }
  const { base, type, prefix, deleted } = ask.links
  return {
    kind: 'list',
    dnaHash: ask.dna,
    list: { kind: 'links', base, linkType: type, tagPrefix: prefix, deleted },
  }
}

export function encodeRecordListAnswer(answer: RecordListAnswer): Uint8Array {
  return encodeMessage({ ops: toWireTuples(answer.ops), more: answer.more })
}

/** Throws MalformedMessageError unless `bytes` is a list's answer. */
export function decodeRecordListAnswer(bytes: Uint8Array): RecordListAnswer {
  return decodeMessage(listAnswerSchema, bytes, 'record list answer')
}
