/**
 * The contract: every entry type, link type and zome function of Ripple's five DNAs, as zod schemas.
 * Both backends (embedded and Holochain) answer these functions with these shapes; the Rust rules
 * (`dnas/rules`) enforce the same bounds on every op.
 */
import type { z } from 'zod'
import { agentRegistry } from './agent_registry.ts'
import { artifactIndex } from './artifact_index.ts'
import { memoryShards } from './memory_shards.ts'
import { policyStore } from './policy_store.ts'
import { resourceMesh } from './resource_mesh_zome.ts'

export * from './agent_registry.ts'
export * from './artifact_index.ts'
export * from './common.ts'
export * from './memory_shards.ts'
export * from './merkle.ts'
export * from './policy_store.ts'
export * from './resource_mesh.ts'
export * from './resource_mesh_batches.ts'
export * from './signals.ts'

export const DNA_NAMES = [
  'agent_registry',
  'resource_mesh',
  'policy_store',
  'artifact_index',
  'memory_shards',
] as const
export type DnaName = (typeof DNA_NAMES)[number]

export interface ZomeFunctionContract {
  input: z.ZodType
  output: z.ZodType
}

export interface DnaContract {
  entryTypes: Record<string, z.ZodType>
  linkTypes: readonly string[]
  /** Entry types withheld from the mesh (Holochain's private visibility): only their actions travel. */
  privateEntryTypes?: readonly string[]
  functions: Record<string, ZomeFunctionContract>
}

export const contract = {
  agent_registry: agentRegistry,
  resource_mesh: resourceMesh,
  policy_store: policyStore,
  artifact_index: artifactIndex,
  memory_shards: memoryShards,
} as const satisfies Record<DnaName, DnaContract>

export type Contract = typeof contract
export type ZomeFnName<D extends DnaName> = keyof Contract[D]['functions'] & string
type FnContract<
  D extends DnaName,
  F extends ZomeFnName<D>,
> = Contract[D]['functions'][F] extends ZomeFunctionContract ? Contract[D]['functions'][F] : never
export type ZomeInput<D extends DnaName, F extends ZomeFnName<D>> = z.input<FnContract<D, F>['input']>
export type ZomeOutput<D extends DnaName, F extends ZomeFnName<D>> = z.output<FnContract<D, F>['output']>
export type EntryTypeName<D extends DnaName> = keyof Contract[D]['entryTypes'] & string
export type EntryOf<D extends DnaName, E extends EntryTypeName<D>> = z.output<
  Contract[D]['entryTypes'][E] extends z.ZodType ? Contract[D]['entryTypes'][E] : never
>
export type LinkTypeName<D extends DnaName> = Contract[D]['linkTypes'][number]
