/**
 * The entry-key index of a cell's own chain: the keys an entry of a keyed type is looked up by (the
 * DNA's `entryKeys`), stored with the entry in its commit, and built from the chain at open for a store
 * from before the index (or from older key rules, or a chain moved on without it), so a look-up never
 * walks the chain.
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
import type {
  ChainHead,
  ChainStore,
  CommitItem,
  EntryKeyIndexState,
  EntryKeyRow,
} from '../../storage/chain-store.ts'
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
    // A window's batch by the leaves entry it cites, and by when it closed (list_own_windows' range).
    AnswerBatch: (batch) => [
      (batch as AnswerBatch).leaves,
      windowClosedKey((batch as AnswerBatch).closed_at),
    ],
    ServedBatch: (batch) => [
      (batch as ServedBatch).leaves,
      windowClosedKey((batch as ServedBatch).closed_at),
    ],
  },
}

/** Bumped when a DNA's key rules change: each chain is then re-indexed at its next open (2: windows by close). */
export const ENTRY_KEY_INDEX_VERSION = 2

const CLOSED_PREFIX = 'closed:'
/** Past every closed key: `;` follows `:`. */
export const WINDOW_CLOSED_END = 'closed;'

/**
 * A window's key by its close (microseconds, zero-padded to a u64's 20 digits so keys sort as times);
 * a hash's text (`u…`) never starts so, so it never meets a batch's leaves key.
 */
export const windowClosedKey = (closedAt: number) =>
  `${CLOSED_PREFIX}${String(Math.max(0, closedAt)).padStart(20, '0')}`

/** What the index holds for an entry of `entryType`: its distinct keys, or undefined for a type not keyed. */
export function keyedEntry(dna: DnaDef, entryType: string, entry: unknown): CommitItem['keyed'] {
  const keysOf = dna.entryKeys?.[entryType]
  return keysOf && { entryType, keys: [...new Set(keysOf(entry))] }
}

/** What opening a chain does to its index: nothing, or index its actions from `from` on (`replace`: anew). */
export type IndexPlan = 'current' | { from: number; replace: boolean }

/**
 * Plans the index's catch-up at open. The index records the chain head it covers: a chain moved on
 * without it (appended by a release without the index, such as 0.1.0 opening a newer dir) is indexed
 * from that head on; an index by other key rules, or one whose head is not on the chain, is rebuilt.
 */
export function planEntryKeyIndex(
  index: EntryKeyIndexState | null,
  head: ChainHead,
  hashAt: (seq: number) => Uint8Array | null,
): IndexPlan {
  const covered = index?.version === ENTRY_KEY_INDEX_VERSION ? index.head : null
  if (covered === null) return { from: 0, replace: true }
  const onChain = covered.seq <= head.seq && equalBytes(hashAt(covered.seq), covered.hash)
  if (!onChain) return { from: 0, replace: true }
  return covered.seq === head.seq ? 'current' : { from: covered.seq + 1, replace: false }
}

const equalBytes = (a: Uint8Array | null, b: Uint8Array) =>
  a !== null && a.length === b.length && a.every((byte, i) => byte === b[i])

/** Brings the chain's index up to its head (see planEntryKeyIndex): a walk of only what it does not cover. */
export function indexEntryKeys(
  store: ChainStore,
  dna: DnaDef,
  dnaHash: Uint8Array,
  author: Uint8Array,
): void {
  const head = store.chainHead(dnaHash, author)
  if (head === null) return
  const hashAt = (seq: number) => store.chainRange(dnaHash, author, seq, 1)[0]?.hash ?? null
  const plan = planEntryKeyIndex(store.entryKeyIndex(dnaHash, author), head, hashAt)
  if (plan === 'current') return
  const rows: EntryKeyRow[] = []
  for (const action of store.chainActions(dnaHash, author, plan.from)) {
    if (action.entryHash === null) continue
    const entryType = entryTypeName(decodeAction(action.bytes), dna)
    const entry = entryType && dna.entryKeys?.[entryType] && store.getEntry(action.entryHash)
    if (!entryType || !entry) continue
    for (const key of keyedEntry(dna, entryType, decodeMsgpack(entry.bytes))?.keys ?? []) {
      rows.push({ entryType, key, seq: action.seq, actionHash: action.hash })
    }
  }
  store.setEntryKeyIndex(dnaHash, author, {
    version: ENTRY_KEY_INDEX_VERSION,
    head,
    rows,
    replace: plan.replace,
  })
}
