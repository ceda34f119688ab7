/**
 * What a coordination backend gives the node (the network port, the conductor, and the libp2p handles
 * where the backend runs a node of ours), and what starting one takes. network-backend.ts starts one.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import type { RecordReads } from '../conductor/embedded/replication/index.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import type { MembraneProof } from '../identity/membrane-grant.ts'
import type { AgentPort } from '../interface/agent-port.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { ModelDirectoryPort } from '../interface/model-directory.ts'
import type { NetworkPort } from '../interface/network-port.ts'
import type { Logger } from '../log/logger.ts'
import type { LegacyUse } from '../membership/legacy-sealer.ts'
import type { PeerVersions } from '../net/mesh-versions.ts'
import type { RegistryInit } from '../registry/registry-service.ts'

export interface NetworkBackend extends NetworkPort {
  conductor: ConductorPort
  /** Holochain's admin interface served by this peer (`--admin-port`), or null. */
  adminUrl: string | null
  /**
   * The peer's libp2p node (embedded, and holochain with a libp2p section), which Helia shares: the
   * protocols registered through it (bitswap) serve members of the mesh only.
   */
  libp2p: Libp2p | null
  /** Streams and requests to other peers' services by agent (where there is a libp2p node): splits, direct requests, memory. */
  agents: AgentPort<Stream> | null
  /** Who serves which model beyond the peers heard (where there is a libp2p node): design 4e. */
  directory: ModelDirectoryPort | null
  /**
   * The release each peer stated in its hello and the gate for new forms (where there is a libp2p
   * node; a Holochain conductor's peers state none to this host).
   */
  versions: PeerVersions | null
  /**
   * Members' addresses by agent (where there is a libp2p node): this peer's, told in its heartbeats,
   * and those others tell, dialled before a directory walk (net/member-addresses.ts).
   */
  memberAddresses: NonNullable<RegistryInit['addresses']> | null
  /**
   * The uses of 0.1.0 invites by members, and those the admins sealed (embedded only): what an admin
   * seals once every member reads witnessed invites (membership/legacy-sealer.ts).
   */
  legacy: { uses(): LegacyUse[]; sealed(): ReadonlySet<string> | null } | null
  /**
   * A record by its action hash wherever it lives (embedded only): from this peer's store, or from its
   * holders over `record/1.0.0`, checked (docs/record.md, "Where records live").
   */
  records: RecordReads | null
  /**
   * Whether records live with their neighbourhood now (embedded only, record-sharding.ts): the stored-
   * records events then tell of what this peer holds, not of every record that concerns it, and the
   * scheduler sweeps as on a polling backend.
   */
  recordsSharded: (() => boolean) | null
  /**
   * The members this peer's store shows (genesis held, neither revoked nor warranted), itself among
   * them, as of a second ago at most (embedded only): what a sharded peer counts and lists its members
   * from, never reading each one's capability.
   */
  members: (() => readonly string[]) | null
  stop(): Promise<void>
}

export interface BackendOptions {
  dataDir: string
  network: NetworkConfig
  listen?: readonly string[]
  peers?: readonly string[]
  mdnsInterface?: string
  adminPort?: number
  adminOrigins?: string
  /** The invite this agent joined its private mesh with, put in its genesis (its cells' membrane proof on holochain). */
  membraneProof?: MembraneProof | null
  logger: Logger
}
