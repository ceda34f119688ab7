/**
 * The rows of the SQLite chain store and their conversion to and from the ChainStore's values:
 * better-sqlite3 reads and binds Buffers, callers hold plain Uint8Arrays.
 */
import type { StoredAction, StoredLink } from './chain-store.ts'

export interface ActionRow {
  hash: Buffer
  dna_hash: Buffer
  author: Buffer
  seq: number
  type: string
  timestamp: number
  entry_hash: Buffer | null
  target_action: Buffer | null
  bytes: Buffer
  signature: Buffer
  /** 1: a held op (out of chain order); 0 in the chain. */
  held: number
}

export interface WarrantRow {
  author: Buffer
  dna_hash: Buffer
  rule: string
  reason: string
  action_hash: Buffer | null
  reported_by: Buffer
  timestamp: number
}

export interface LinkRow {
  create_hash: Buffer
  dna_hash: Buffer
  base: Buffer
  target: Buffer
  zome_index: number
  link_type: number
  tag: Buffer
  author: Buffer
  timestamp: number
  deleted_by: Buffer | null
}

/** A Buffer over the same memory, to bind as a parameter (no copy). */
export function buf(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)
}

export function nullableBuf(u8: Uint8Array | null): Buffer | null {
  return u8 === null ? null : buf(u8)
}

/** Plain Uint8Array copies: callers compare and msgpack-encode them, where Buffer would differ. */
export function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b)
}

export function toAction(row: ActionRow): StoredAction {
  const action: StoredAction = {
    hash: bytes(row.hash),
    dnaHash: bytes(row.dna_hash),
    author: bytes(row.author),
    seq: row.seq,
    type: row.type,
    timestamp: row.timestamp,
    entryHash: row.entry_hash && bytes(row.entry_hash),
    targetAction: row.target_action && bytes(row.target_action),
    bytes: bytes(row.bytes),
    signature: bytes(row.signature),
  }
  if (row.held === 1) action.held = true
  return action
}

export function toLink(row: LinkRow): StoredLink {
  return {
    createHash: bytes(row.create_hash),
    dnaHash: bytes(row.dna_hash),
    base: bytes(row.base),
    target: bytes(row.target),
    zomeIndex: row.zome_index,
    linkType: row.link_type,
    tag: bytes(row.tag),
    author: bytes(row.author),
    timestamp: row.timestamp,
    deletedBy: row.deleted_by && bytes(row.deleted_by),
  }
}
