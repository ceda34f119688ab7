/**
 * The holochain backend: a Holochain 0.6 conductor behind the conductor port. The network file names a
 * running conductor (`holochain.admin_url`), or this host starts one with `holochain` + `lair-keystore`.
 *
 * @example
 * const backend = await startHolochainBackend({ dataDir, network: await loadNetworkConfig('testnet'), logger })
 * await backend.conductor.callZome('agent_registry', 'list_nodes', null)
 */
import type { NetworkConfig } from '../../config/network-schema.ts'
import { openAgentKey } from '../../identity/keystore.ts'
import type { MembraneProof } from '../../identity/membrane-grant.ts'
import type { Logger } from '../../log/logger.ts'
import { repoPath } from '../../runtime/repo-root.ts'
import { encodeMembraneProof } from '../embedded/validation/membrane-proof.ts'
import { startConductorProcess } from './conductor-process.ts'
import { HolochainConductor } from './holochain-conductor.ts'

export { HolochainNotInstalledError } from './conductor-process.ts'
export { HappNotBuiltError, HolochainCallError, HolochainConductor } from './holochain-conductor.ts'

export const DEFAULT_HAPP_PATH = repoPath('workdir', 'ripple.happ')

export interface HolochainBackend {
  conductor: HolochainConductor
  /** The `holochain` process this host started; null when it drives one named by admin_url. */
  conductorPid: number | null
  /** Closes the client; stops the conductor when this host started it. */
  stop(): Promise<void>
}

export async function startHolochainBackend(init: {
  dataDir: string
  network: NetworkConfig
  happPath?: string
  /** The invite this agent joined its private mesh with, witnessed: its cells' membrane proof. */
  membraneProof?: MembraneProof | null
  logger: Logger
}): Promise<HolochainBackend> {
  const adminUrl = init.network.holochain?.admin_url ?? null
  // A conductor this host starts holds the Ripple agent's key in its lair: its cells are that agent's,
  // so the network file can name it (a progenitor). A conductor named by admin_url makes its own key.
  const agent = adminUrl === null ? await openAgentKey(init.dataDir) : null
  const started =
    agent === null
      ? null
      : await startConductorProcess(init.dataDir, init.network, init.logger, agent.exportSeed())
  try {
    const conductor = await HolochainConductor.connect({
      adminUrl: adminUrl ?? started!.adminUrl,
      network: init.network,
      happPath: init.happPath ?? DEFAULT_HAPP_PATH,
      agentKey: agent?.agentPubKey,
      membraneProof: init.membraneProof ? encodeMembraneProof(init.membraneProof) : null,
      logger: init.logger,
    })
    return {
      conductor,
      conductorPid: started?.pid ?? null,
      async stop() {
        await conductor.close()
        await started?.stop()
      },
    }
  } catch (err) {
    await started?.stop()
    throw err
  }
}
