/**
 * The ops a peer holds in one DNA with where they live (issue 57): what the summaries
 * (neighbourhood-sync.ts) compare and the hand-off (handoff-runner.ts) plans over. Every chain's
 * actions and every held op, each with its bases (op-basis.ts), or none (null) for what every member
 * keeps: a genesis and an everywhere record (op-placement.ts).
 */
import { encodeHashB64 } from '../../../identity/hash.ts'
import type { ChainStore, StoredAction } from '../../../storage/chain-store.ts'
import { decodeAction } from '../action.ts'
import type { Cell } from '../cell.ts'
import type { PlacedOp } from './neighbourhood-summary.ts'
import { opBases } from './op-basis.ts'
import { isGenesis, opScope } from './op-placement.ts'

type Store = Pick<ChainStore, 'chainHeads' | 'chainActions' | 'heldActions' | 'getAction' | 'writeCount'>

interface Listed {
  writes: number
  ops: readonly PlacedOp[]
  /** Each op listed, by its hash (B64): listed again after a write, an op already known is not decoded again. */
  byHash: ReadonlyMap<string, PlacedOp>
}

/**
 * Per store and DNA, the list as of the store's write count (the same count, the same rows): the
 * summaries of every exchange and each hand-off plan ask for it, while an idle mesh writes nothing
 * between them. After a write the rows are read again but only the ops not listed before are decoded,
 * and the others keep their objects, so what is planned from them (HolderPlans) is not planned again.
 */
const listed = new WeakMap<Store, Map<string, Listed>>()

export function heldOpsOf(store: Store, cell: Pick<Cell, 'dna' | 'dnaHash'>): readonly PlacedOp[] {
  const writes = store.writeCount()
  const ofStore = listed.get(store) ?? new Map<string, Listed>()
  listed.set(store, ofStore)
  const key = encodeHashB64(cell.dnaHash)
  const kept = ofStore.get(key)
  if (kept?.writes === writes) return kept.ops
  const byHash = new Map<string, PlacedOp>()
  const ops = Object.freeze(placedOps(store, cell, kept?.byHash ?? new Map(), byHash))
  ofStore.set(key, { writes, ops, byHash })
  return ops
}

function placedOps(
  store: Store,
  cell: Pick<Cell, 'dna' | 'dnaHash'>,
  before: ReadonlyMap<string, PlacedOp>,
  now: Map<string, PlacedOp>,
): PlacedOp[] {
  const { dnaHash } = cell
  // A deletion whose target is not held here has no scope yet: listed again, not kept, until it has.
  let unresolved = false
  const target = (hash: Uint8Array) => {
    const stored = store.getAction(hash)
    if (stored === null) unresolved = true
    return stored === null ? null : decodeAction(stored.bytes)
  }
  const placed = (stored: StoredAction): PlacedOp => {
    const action = decodeAction(stored.bytes)
    const everyone = isGenesis(action) || opScope(cell.dna, action, target) === 'everywhere'
    return {
      hash: stored.hash,
      bases: everyone ? null : opBases(action, stored.hash),
      author: encodeHashB64(stored.author),
    }
  }
  const known = (stored: StoredAction): PlacedOp => {
    const hash = encodeHashB64(stored.hash)
    const kept = before.get(hash)
    if (kept !== undefined) {
      now.set(hash, kept)
      return kept
    }
    unresolved = false
    const op = placed(stored)
    if (!unresolved) now.set(hash, op)
    return op
  }
  const chains = store.chainHeads(dnaHash).flatMap((head) => [...store.chainActions(dnaHash, head.author)])
  return [...chains, ...store.heldActions(dnaHash)].map(known)
}
