/** A malicious player: publishes hand-crafted ops straight on its `ops` gossip channel. */

import { encodeOpBatch, type WireOp } from '../../host/conductor/embedded/replication/index.ts'
import type { DnaName } from '../../zomes-bindings/index.ts'
import type { AuthorCell } from '../unit/conductor/replication/fixtures/forge.ts'
import type { Player } from './harness.ts'

export { craftCreate, strangerKey } from '../unit/conductor/replication/fixtures/forge.ts'

/** The player's cell in `dna`, as the forging helpers take it. */
export function authorCell(player: Player, dna: DnaName): AuthorCell {
  return { cell: player.conductor.cell(dna), store: player.conductor.store, dataDir: player.dataDir }
}

/** Publishes ops on the player's `ops` gossip channel, as its replicator would. */
export async function publishOps(player: Player, dna: DnaName, ops: WireOp[]): Promise<void> {
  const dnaHash = player.conductor.cell(dna).dnaHash
  await player.node.pubsub.publish('ops', encodeOpBatch({ dnaHash, ops }))
}
