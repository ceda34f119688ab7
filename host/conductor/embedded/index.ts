/**
 * The embedded backend: an in-process conductor that keeps Holochain's data model (Ed25519 agent key,
 * HoloHashes, hash-linked signed source chains, records and links shaped like `@holochain/client`'s,
 * every entry validated by the Rust rules before it is stored).
 *
 * @example
 * const conductor = await createEmbeddedConductor({ dataDir, network: await loadNetworkConfig('local') })
 * await conductor.callZome('agent_registry', 'advertise_capability', capability)
 */
import { join } from 'node:path'
import { contract, DNA_NAMES, type DnaContract, type DnaName } from '../../../zomes-bindings/index.ts'
import type { NetworkConfig } from '../../config/network-schema.ts'
import { openAgentKey } from '../../identity/keystore.ts'
import type { MembraneProof } from '../../identity/membrane-grant.ts'
import { type Logger, silentLogger } from '../../log/logger.ts'
import { openSqliteChainStore } from '../../storage/sqlite-chain-store.ts'
import { Cell } from './cell.ts'
import { CommitFeed } from './commit-feed.ts'
import { EmbeddedConductor } from './conductor.ts'
import { RULES_LINEAGE } from './dna.ts'
import { zomeEntryKeys } from './entry-keys.ts'
import { RemoteReadsRelay } from './remote-reads.ts'
import { MemorySignalHub, type SignalTransport } from './signal-transport.ts'
import { StandingRelay } from './validation/agent-standing.ts'
import { DEFAULT_RULES_WASM, loadRulesValidator } from './validation/rules-wasm.ts'
import type { RulesValidator } from './validation/validator.ts'

export { decodeHashB64, encodeHashB64 } from '../../identity/hash.ts'
export {
  type AgentKey,
  InsecureKeyFileError,
  InvalidKeyFileError,
  openAgentKey,
} from '../../identity/keystore.ts'
export { Cell } from './cell.ts'
export type { OpsCommittedEvent } from './commit-feed.ts'
export { ConductorClosedError, EmbeddedConductor } from './conductor.ts'
export type { DnaDef, DnaModifiers } from './dna.ts'
export {
  ChainIntegrityError,
  InvalidZomeCallError,
  RecordNotFoundError,
  UnknownTypeError,
  ZomeFunctionNotImplementedError,
} from './errors.ts'
export type { Hdk } from './hdk.ts'
export { MemorySignalHub, type SignalTransport } from './signal-transport.ts'
export type { CommittedAction } from './source-chain.ts'
export { InvalidEntryError, UnresolvedDependenciesError } from './validation/validator.ts'

/** The SQLite file of the conductor inside the data dir. */
export const CONDUCTOR_DB_FILE = 'conductor.sqlite'

export interface EmbeddedConductorInit {
  /** Holds `agent.key` (0600) and the conductor's SQLite database. */
  dataDir: string
  network: NetworkConfig
  /** The rules to validate with; default: the wasm at `rulesWasmPath`. */
  rulesValidator?: RulesValidator
  /** The rules wasm (the DNA hashes name its lineage, dna.ts). Default: `workdir/ripple_rules.wasm`. */
  rulesWasmPath?: string
  /** Default: an in-process hub that loops this conductor's signals back to it. */
  signalTransport?: SignalTransport
  /** Written into the genesis of every cell: the invite that admits this agent, if any. */
  membraneProof?: MembraneProof | null
  logger?: Logger
}

/** Opens (or creates) the agent key and store, and opens or genesis-writes one cell per DNA. */
export async function createEmbeddedConductor(init: EmbeddedConductorInit): Promise<EmbeddedConductor> {
  const logger = (init.logger ?? silentLogger()).child({ component: 'conductor' })
  const wasmPath = init.rulesWasmPath ?? DEFAULT_RULES_WASM
  const validator = init.rulesValidator ?? (await loadRulesValidator(wasmPath))
  const key = await openAgentKey(init.dataDir)
  const store = openSqliteChainStore(join(init.dataDir, CONDUCTOR_DB_FILE))
  const commits = new CommitFeed(logger)
  const standing = new StandingRelay()
  const remote = new RemoteReadsRelay()
  try {
    const cells = new Map<DnaName, Cell>()
    for (const dna of DNA_NAMES) {
      const cell = Cell.open({
        store,
        key,
        dna: {
          name: dna,
          entryTypes: Object.keys(contract[dna].entryTypes),
          linkTypes: contract[dna].linkTypes,
          privateEntryTypes: (contract[dna] as DnaContract).privateEntryTypes ?? [],
          entryKeys: zomeEntryKeys[dna] ?? {},
        },
        modifiers: {
          networkName: init.network.name,
          networkSeed: init.network.seed,
          properties: init.network.dna_properties[dna] ?? {},
          rulesSha256: RULES_LINEAGE,
        },
        validator,
        membraneProof: init.membraneProof,
        onCommitted: (c, actions) => commits.publish(c, actions),
        standing,
        remote,
      })
      cells.set(dna, cell)
    }
    const signals = init.signalTransport ?? new MemorySignalHub().connect()
    const conductor = new EmbeddedConductor({
      cells,
      agentPubKey: key.agentPubKey,
      store,
      signals,
      commits,
      standing,
      remote,
      logger,
    })
    logger.info({ agent: conductor.agentPubKey, network: init.network.name }, 'embedded conductor open')
    return conductor
  } catch (err) {
    store.close()
    throw err
  }
}
