/**
 * The entry-key index of a cell's own chain: the keys an entry of a keyed type is looked up by (the
 * DNA's `entryKeys`), stored with the entry in its commit, and built from the chain at open for a store
 * from before the index (or from older key rules), so a look-up never walks the chain.
 */
import {
  type AnswerBatch,
  type AnswerLeaves,
  type DnaName,
  isCoverLeaf,
  type ServedBatch,
  type ServedLeaves,
  type TaskPayload,
} from '../../../zomes-bindings/index.ts'
import { decodeMsgpack } from '../../identity/canonical.ts'
import type { ChainStore, CommitItem, EntryKeyRow } from '../../storage/chain-store.ts'
import { decodeAction } from './action.ts'
import type { DnaDef } from './dna.ts'
import { entryTypeName } from './validation/record-rules.ts'

/** Per DNA, the keys each entry type the coordinators look up by key is found by. */
export const zomeEntryKeys: { [D in DnaName]?: NonNullable<DnaDef['entryKeys']> } = {
  resource_mesh: {
    TaskPayload: (payload) => [(payload as TaskPayload).hash],
    AnswerLeaves: (leaves) => (leaves as AnswerLeaves).leaves.map((leaf) => leaf.request),
    // A cover leaf is no request's: nothing looks it up.
    ServedLeaves: (leaves) =>
      (leaves as ServedLeaves).leaves.filter((leaf) => !isCoverLeaf(leaf)).map((leaf) => leaf.request),
    // A window's batch by the leaves entry it cites.
    AnswerBatch: (batch) => [(batch as AnswerBatch).leaves],
    ServedBatch: (batch) => [(batch as ServedBatch).leaves],
  },
}

/** Bumped when a DNA's key rules change: each chain is then re-indexed at its next open. */
export const ENTRY_KEY_INDEX_VERSION = 1

/** What the index holds for an entry of `entryType`: its distinct keys, or undefined for a type not keyed. */
export function keyedEntry(dna: DnaDef, entryType: string, entry: unknown): CommitItem['keyed'] {
  const keysOf = dna.entryKeys?.[entryType]
  return keysOf && { entryType, keys: [...new Set(keysOf(entry))] }
}

/** Builds the chain's index from its entries unless the current key rules built it already. */
export function indexEntryKeys(
  store: ChainStore,
  dna: DnaDef,
  dnaHash: Uint8Array,
  author: Uint8Array,
): void {
  if (store.entryKeyIndexVersion(dnaHash, author) === ENTRY_KEY_INDEX_VERSION) return
  const rows: EntryKeyRow[] = []
  for (const action of store.chainActions(dnaHash, author)) {
    if (action.entryHash === null) continue
    const entryType = entryTypeName(decodeAction(action.bytes), dna)
    const entry = entryType && dna.entryKeys?.[entryType] && store.getEntry(action.entryHash)
    if (!entryType || !entry) continue
    for (const key of keyedEntry(dna, entryType, decodeMsgpack(entry.bytes))?.keys ?? []) {
      rows.push({ entryType, key, seq: action.seq, actionHash: action.hash })
    }
  }
  store.setEntryKeyIndex(dnaHash, author, ENTRY_KEY_INDEX_VERSION, rows)
}
