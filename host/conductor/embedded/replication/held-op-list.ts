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

/**
 * Per store and DNA, the list as of the store's write count (the same count, the same rows): the
 * summaries of every exchange and each hand-off plan ask for it, and it decodes every op held, while
 * an idle mesh writes nothing between them.
 */
const listed = new WeakMap<Store, Map<string, { writes: number; ops: readonly PlacedOp[] }>>()

export function heldOpsOf(store: Store, cell: Pick<Cell, 'dna' | 'dnaHash'>): readonly PlacedOp[] {
  const writes = store.writeCount()
  const ofStore = listed.get(store) ?? new Map()
  listed.set(store, ofStore)
  const key = encodeHashB64(cell.dnaHash)
  const kept = ofStore.get(key)
  if (kept?.writes === writes) return kept.ops
  const ops = Object.freeze(placedOps(store, cell))
  ofStore.set(key, { writes, ops })
  return ops
}

function placedOps(store: Store, cell: Pick<Cell, 'dna' | 'dnaHash'>): PlacedOp[] {
  const { dnaHash } = cell
  const target = (hash: Uint8Array) => {
    const stored = store.getAction(hash)
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
  const chains = store.chainHeads(dnaHash).flatMap((head) => [...store.chainActions(dnaHash, head.author)])
  return [...chains, ...store.heldActions(dnaHash)].map(placed)
}
