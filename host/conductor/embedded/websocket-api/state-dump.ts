/**
 * `dump_full_state` of one cell, as Holochain shapes `FullStateDump`: this agent's source chain (every
 * record's action, hash and signature, in chain order) and the DHT op count this conductor holds for
 * the DNA. The embedded store keeps actions, not DhtOps, so the op lists are empty and
 * `dht_ops_cursor` counts the actions held from every author.
 */
import type { DnaName } from '../../../../zomes-bindings/index.ts'
import { decodeAction } from '../action.ts'
import type { EmbeddedConductor } from '../conductor.ts'

export function fullStateDump(conductor: EmbeddedConductor, dna: DnaName): Record<string, unknown> {
  const cell = conductor.cell(dna)
  const records = [...conductor.store.chainActions(cell.dnaHash, cell.agentPubKey)].map((action) => ({
    signature: action.signature,
    action_address: action.hash,
    action: decodeAction(action.bytes),
    entry: null,
  }))
  const held = conductor.store.chainHeads(cell.dnaHash).reduce((sum, head) => sum + head.seq + 1, 0)
  return {
    peer_dump: { this_agent_info: null, this_agent: null, peers: [] },
    source_chain_dump: { records, published_ops_count: records.length },
    integration_dump: { validation_limbo: [], integration_limbo: [], integrated: [], dht_ops_cursor: held },
  }
}
