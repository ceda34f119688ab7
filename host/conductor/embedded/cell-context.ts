/** What one cell's HDK reads and writes by: its DNA, its agent, the store and the rules. */
import type { ChainStore } from '../../storage/chain-store.ts'
import type { DnaDef } from './dna.ts'
import type { AgentStanding } from './validation/agent-standing.ts'
import type { RulesValidator } from './validation/validator.ts'

export interface CellContext {
  dna: DnaDef
  dnaHash: Uint8Array
  agentPubKey: Uint8Array
  store: ChainStore
  validator: RulesValidator
  properties: Record<string, unknown>
  standing: AgentStanding
}
