/**
 * `dhtSync` for a mesh whose records may be sharded (issue 57): every player holds every op it should,
 * as op-placement.ts places it from that player's own view (its members, `record.holders`, whether
 * records are sharded there), whatever chain heads it has. Where records are not sharded that is every
 * op on every player, as dhtSync asks; where they are, chain heads differ by design (a chain is kept
 * whole by its author's activity holders only), so dhtSync cannot say.
 */
import type { Action } from '@holochain/client'
import { decodeAction } from '../../host/conductor/embedded/action.ts'
import { knownMembers } from '../../host/conductor/embedded/replication/membership.ts'
import { type OpPlacement, opScope, placeOp } from '../../host/conductor/embedded/replication/op-placement.ts'
import { recordsSharded } from '../../host/conductor/embedded/replication/record-sharding.ts'
import { DEFAULT_RECORD_HOLDERS } from '../../host/config/network-schema.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import type { StoredAction } from '../../host/storage/chain-store.ts'
import type { DnaName } from '../../zomes-bindings/index.ts'
import { type Player, waitUntil } from './harness.ts'

/** Every op any of `players` holds in `dna` (chains and held ops), by action hash. */
export function opsHeld(players: readonly Player[], dna: DnaName): Map<string, StoredAction> {
  const ops = new Map<string, StoredAction>()
  for (const p of players) {
    const { store } = p.conductor
    const dnaHash = p.conductor.cell(dna).dnaHash
    for (const head of store.chainHeads(dnaHash))
      for (const a of store.chainActions(dnaHash, head.author)) ops.set(encodeHashB64(a.hash), a)
    for (const a of store.heldActions(dnaHash)) ops.set(encodeHashB64(a.hash), a)
  }
  return ops
}

/** How `player` places the op of `action` (hash `hash`), from its own view now. */
export function placementOn(
  player: Player,
  dna: DnaName,
  action: Action,
  hash: Uint8Array,
  known: ReadonlyMap<string, StoredAction>,
): OpPlacement {
  const holders = player.network.record?.holders ?? DEFAULT_RECORD_HOLDERS
  const members = knownMembers(player.conductor, player.replication)
  const target = (h: Uint8Array) => {
    const stored = known.get(encodeHashB64(h))
    return stored === undefined ? null : decodeAction(stored.bytes)
  }
  return placeOp({
    action,
    hash,
    scope: opScope(player.conductor.cell(dna).dna, action, target),
    members,
    holders,
    self: player.agentPubKey,
    sharded: recordsSharded({ members: members.length, holders, versions: player.node.versions }),
  })
}

/** Per player, the ops it should hold and does not (action hashes). */
export function missingOps(players: readonly Player[], dna: DnaName): Map<string, string[]> {
  const ops = opsHeld(players, dna)
  const missing = new Map<string, string[]>()
  for (const p of players) {
    const lacks: string[] = []
    for (const [hash, stored] of ops) {
      if (p.conductor.store.getAction(stored.hash) !== null) continue
      const placed = placementOn(p, dna, decodeAction(stored.bytes), stored.hash, ops)
      if (placed.keep !== null) lacks.push(`${stored.type} ${stored.seq} (${placed.keep}) ${hash}`)
    }
    if (lacks.length > 0) missing.set(p.name, lacks)
  }
  return missing
}

/** Waits until every player holds every op it should (`missingOps` empty). */
export async function recordSync(
  players: readonly Player[],
  dna: DnaName,
  timeoutMs = 15_000,
): Promise<void> {
  await waitUntil(timeoutMs, () => missingOps(players, dna).size === 0).catch(() => {
    const missing = [...missingOps(players, dna)].map(([name, lacks]) => `${name} lacks ${lacks.join(', ')}`)
    throw new Error(
      `players did not hold what they should of ${dna} within ${timeoutMs} ms: ${missing.join(', ')}`,
    )
  })
}
