/** What a host's scheduler (./scheduler-service.ts) is built from. */
import type { DnaName, NodeCapability } from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { MeshVersions } from '../interface/release.ts'
import type { Logger } from '../log/logger.ts'
import type { PoliciesPort } from '../policy/policies-port.ts'
import type { WorkersPort } from '../workers/workers-port.ts'
import type { ClaimWindow } from './claim-window.ts'
import type { ShardedNodes } from './known-nodes.ts'
import type { TaskPayloads } from './task-payloads.ts'

type RecordAbout = { record: string; link: string }

export interface SchedulerInit {
  conductor: ConductorPort
  workers: WorkersPort
  policies: Pick<PoliciesPort, 'decide' | 'invalidate'>
  /** This host's advertised capability (throws until the registry has started). */
  capability: () => NodeCapability
  /**
   * Calls back when ops of a DNA were stored (replication), with the records they link about and
   * the link types (e.g. `recordsAbout` of the embedded replication). Without it the scheduler
   * sweeps the open tasks every `pollMs`.
   */
  onRecordsStored?: (dna: DnaName, listener: (about: readonly RecordAbout[]) => void) => () => void
  /** IPFS for inputs and outputs too large to travel inline (the daemon's artifacts). */
  payloads?: TaskPayloads
  /** What peers speak: inputs are salted once all read salts (entries/2); without it, never. */
  versions?: MeshVersions
  /** Agents never given work (revoked from the mesh); default: none. */
  barred?: (agent: string) => boolean
  /** While true, `onRecordsStored` misses tasks that concern this host (records sharded): sweep too. */
  polling?: () => boolean
  /** Where records can be sharded: the members, and a member's capability (known-nodes.ts). */
  sharded?: ShardedNodes | null
  /** Members a sharded task's walk reads at most (known-nodes.ts); default WALK_MAX. */
  walkMax?: number
  /** Sweep period when there is no `onRecordsStored`, or while `polling`; default 300 ms. */
  pollMs?: number
  /** How long claims are gathered before the first assignment (claim-window.ts); default 200 ms. */
  claimWindowMs?: ClaimWindow
  /** Waited past a lease before reassigning; default 250 ms. */
  leaseGraceMs?: number
  /** A task this host declined is looked at again after this long; default 10 s. */
  declineMs?: number
  logger: Logger
}
