/** What the registry (./registry-service.ts) is built from. */
import type { Heartbeat, NodeCapability } from '../../zomes-bindings/index.ts'
import type { LoadSampler } from '../hardware/index.ts'
import type { BudgetPort } from '../interface/budget-port.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { ModelDirectoryPort } from '../interface/model-directory.ts'
import type { Logger } from '../log/logger.ts'
import type { AddressBook } from './heard-addresses.ts'
import type { HeartbeatConfig } from './peer-status.ts'

export interface RegistryInit {
  conductor: ConductorPort
  heartbeat: HeartbeatConfig
  /** Measures the machine and builds a fresh capability. */
  describe: () => Promise<NodeCapability>
  /** How often to re-measure and re-advertise when something changed. */
  resampleIntervalMs: number
  loadSampler: LoadSampler
  /** Tasks waiting to run here, reported in heartbeats. */
  queueDepth: () => number
  /** Free engine slots over the loaded models; null when none is loaded. */
  freeSlots?: () => number | null
  /**
   * The memory promised here: its heartbeats say what models may still take, and the shares of others'
   * splits their heads' heartbeats say this peer holds stand in it as a claim (never evicted).
   */
  budget?: Pick<BudgetPort, 'claim' | 'free'>
  /** Memory the idle loaded models hold (a load unloads them, least recently used first). */
  evictableModelBytes?: () => number
  /** The splits this peer heads. */
  splits?: () => NonNullable<Heartbeat['splits']>
  /**
   * Calls back when agent_registry ops from other peers were stored (a capability may have changed);
   * without it the capability entries are read again every second.
   */
  onRecordsStored?: (dna: 'agent_registry', listener: () => void) => () => void
  /**
   * Whether an agent is a member as the store shows (NetworkPort.isMember): only a member's heartbeat
   * is heard and only members are awaited by new forms, so anyone holding the network key alone can
   * neither hold the mesh to old forms nor fill this peer's view.
   */
  isMember: (agent: string) => boolean
  /**
   * Where records can live with their neighbourhood (NetworkBackend.recordsSharded): whether they do
   * now, and the members on record (membership.ts knownMembers, itself among them). While sharded this
   * peer does not read every member's capability (list_nodes: O(N) reads from holders, every 30 s):
   * it counts and lists members from the membership it holds, and reads the capabilities of the members
   * it hears (./far-capabilities.ts). Absent or null: never sharded (a team's mesh, Holochain).
   */
  sharding?: { now(): boolean; members(): readonly string[] } | null
  /** Where this peer advertises the models it serves; null or absent where the backend has none. */
  directory?: Pick<ModelDirectoryPort, 'advertise' | 'withdraw'> | null
  /**
   * This peer's addresses, told in its heartbeats, and the book of those other members tell (where the
   * backend has a libp2p node: net/member-addresses.ts); `heard` says why it refused a member's list.
   */
  addresses?: AddressBook | null
  /**
   * Whether every member reads the heartbeat fields added after 0.1.0 (`addrs`, `cap`): 0.1.0 reads a
   * heartbeat strictly and drops one with a field it does not know whole, its sender then offline to
   * it, so they are told only while this holds. Absent: always.
   */
  readersLenient?: () => boolean
  logger: Logger
}
