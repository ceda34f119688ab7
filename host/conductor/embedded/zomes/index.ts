/**
 * The coordinator zomes of the embedded conductor, one module per DNA, mirroring the Rust coordinators.
 * A function the contract names but no module implements yet answers ZomeFunctionNotImplementedError.
 */
import type { z } from 'zod'
import type { Contract, DnaName, ZomeFnName, ZomeOutput } from '../../../../zomes-bindings/index.ts'
import type { Hdk } from '../hdk.ts'
import { agentRegistryZome } from './agent-registry.ts'
import { artifactIndexZome } from './artifact-index.ts'
import { memoryShardsZome } from './memory-shards.ts'
import { policyStoreZome } from './policy-store.ts'
import { resourceMeshZome } from './resource-mesh.ts'

export { readOnlyZomeFns } from './lookups.ts'

/** The input after the contract's schema parsed it (defaults applied). */
export type ParsedZomeInput<
  D extends DnaName,
  F extends ZomeFnName<D>,
> = Contract[D]['functions'][F] extends {
  input: infer S extends z.ZodType
}
  ? z.output<S>
  : never

export type ZomeFunction<D extends DnaName, F extends ZomeFnName<D>> = (
  hdk: Hdk,
  input: ParsedZomeInput<D, F>,
) => ZomeOutput<D, F> | Promise<ZomeOutput<D, F>>

export type CoordinatorZome<D extends DnaName> = { [F in ZomeFnName<D>]?: ZomeFunction<D, F> }

export const coordinatorZomes: { [D in DnaName]: CoordinatorZome<D> } = {
  agent_registry: agentRegistryZome,
  resource_mesh: resourceMeshZome,
  policy_store: policyStoreZome,
  artifact_index: artifactIndexZome,
  memory_shards: memoryShardsZome,
}
