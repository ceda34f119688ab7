/**
 * The coordinator zomes of the embedded conductor, one module per DNA, mirroring the Rust coordinators.
 * A function the contract names but no module implements yet answers ZomeFunctionNotImplementedError.
 */
import type { DnaName } from '../../../../zomes-bindings/index.ts'
import { agentRegistryZome } from './agent-registry.ts'
import { artifactIndexZome } from './artifact-index.ts'
import type { CoordinatorZome } from './coordinator-zome.ts'
import { memoryShardsZome } from './memory-shards.ts'
import { policyStoreZome } from './policy-store.ts'
import { resourceMeshZome } from './resource-mesh.ts'

export type { CoordinatorZome, ZomeFunction } from './coordinator-zome.ts'
export { readOnlyZomeFns } from './lookups.ts'

export const coordinatorZomes: { [D in DnaName]: CoordinatorZome<D> } = {
  agent_registry: agentRegistryZome,
  resource_mesh: resourceMeshZome,
  policy_store: policyStoreZome,
  artifact_index: artifactIndexZome,
  memory_shards: memoryShardsZome,
}
