/**
 * What a malicious peer does: ops crafted by hand and signed with its real agent key, published
 * straight on the `ops` gossip channel, bypassing its own conductor's validator and source chain.
 */
import { generateKeyPairSync, sign } from 'node:crypto'
import { type Action, ActionType } from '@holochain/client'
import { encodeCanonical, entryHashOf, signAction } from '../../host/conductor/embedded/action.ts'
import { hashContent } from '../../host/conductor/embedded/hash.ts'
import { openAgentKey } from '../../host/conductor/embedded/keystore.ts'
import { encodeOpBatch, type WireOp } from '../../host/conductor/embedded/replication/index.ts'
import type { DnaName } from '../../zomes-bindings/index.ts'
import type { Player } from './harness.ts'

export interface CraftedOp {
  op: WireOp
  hash: Uint8Array
}

/** Where a crafted action goes: after the action at `prevSeq` of the player's own chain. */
export interface Placement {
  prevSeq: number
  /** Signs with this key instead of the author's (a forged signature). */
  signWith?: { sign(bytes: Uint8Array): Uint8Array }
}

/** A Create of an app entry by `player`, placed after its action at `prevSeq` (default: its head). */
export async function craftCreate(
  player: Player,
  dna: DnaName,
  entryType: string,
  entry: unknown,
  placement: Partial<Placement> = {},
): Promise<CraftedOp> {
  const cell = player.conductor.cell(dna)
  const { store } = player.conductor
  const prevSeq = placement.prevSeq ?? cell.chain.head.seq
  const prev = store.chainRange(cell.dnaHash, cell.agentPubKey, prevSeq, 1)[0]!
  const bytes = encodeCanonical(entry)
  const content = {
    type: ActionType.Create,
    author: cell.agentPubKey,
    timestamp: Math.max(Date.now() * 1000, cell.chain.head.timestamp + 1),
    action_seq: prevSeq + 1,
    prev_action: prev.hash,
    entry_type: {
      App: { entry_index: cell.dna.entryTypes.indexOf(entryType), zome_index: 0, visibility: 'Public' },
    },
    entry_hash: entryHashOf(bytes),
  } as Action
  const key = await openAgentKey(player.dataDir)
  const signed = signAction(content, key)
  const signature = placement.signWith ? placement.signWith.sign(signed.bytes) : signed.signature
  return { op: { action: signed.bytes, signature, entry: bytes }, hash: hashContent(signed.bytes, 'action') }
}

/** A key that is nobody's agent key: what a forger signs with. */
export function strangerKey(): { sign(bytes: Uint8Array): Uint8Array } {
  const { privateKey } = generateKeyPairSync('ed25519')
  return { sign: (bytes) => new Uint8Array(sign(null, bytes, privateKey)) }
}

/** Publishes ops on the player's `ops` gossip channel, as its replicator would. */
export async function publishOps(player: Player, dna: DnaName, ops: WireOp[]): Promise<void> {
  const dnaHash = player.conductor.cell(dna).dnaHash
  await player.node.pubsub.publish('ops', encodeOpBatch({ dnaHash, ops }))
}
