/**
 * Which release this peer runs and which version of each protocol it speaks: what it states to every
 * other peer (the hello), shows people (`ripple peers`, `ripple status`, the dashboard, the logs) and
 * uses to decide what it may write while older peers are in the mesh. Schema only, so the API
 * contract (and so the browser dashboard) may import it; exchanging it is `net/`'s job.
 *
 * The rule for change (README, "Upgrading a mesh"): a release reads what the previous release writes,
 * and writes a new form only once every member it knows speaks the protocol version that reads it.
 * Bump a protocol's number here when what it writes changes; add a CHANGELOG entry per release.
 */
import { z } from 'zod'

/** This release (package.json's version; kept equal by a test). */
export const RELEASE = '0.2.0'

/**
 * The protocols a peer speaks, each with the highest version this release speaks. A peer that states
 * no hello of its own (a release before 0.2.0) speaks version 1 of each.
 */
export const PROTOCOLS = {
  /** The hello: network id, then (from 2) this statement. */
  hello: 2,
  /** Gossip signals (heartbeats, presence) and their fields. */
  signals: 1,
  /**
   * Entry formats under the DNAs' rules (2: a task's payload hashes may name a salted envelope; 3: a
   * mesh-wide model alias, `ModelAlias` in policy_store).
   */
  entries: 3,
  /** How an invite is redeemed (1: judged by the joiner's genesis; 2: witnessed by a member, `admit/1.0.0`). */
  admission: 2,
  /** The direct request wire (`direct-infer`; 2: an offer first, the prompt only once the runner said yes). */
  direct: 2,
  /** The invite file's format (`ripple_invite`). */
  invite: 1,
  /** The data dir's layout. */
  data_dir: 1,
  /** A member's usage as a peer signed it, asked of that peer (`usage/1.0.0`; not in 0.1.0). */
  usage: 1,
  /** Replication: the ops topic and anti-entropy (`sync/1.0.0`). */
  sync: 1,
  /** Peer exchange (`peers/1.0.0`). */
  peers: 1,
  /** Signals to one agent (`signal/1.0.0`): task payloads, outputs, progress. */
  signal: 1,
  /** A split's RPC tunnel (`rpc-tunnel/1.0.0`). */
  rpc_tunnel: 1,
  /** The shared memory's reads and writes (`memory/1.0.0`). */
  memory: 1,
  /**
   * The sharded record (issue 57): gets of ops and lists from their holders (`record/1.0.0`) and an
   * author's pushes of neighbourhood ops to their holders (`record-push/1.0.0`); spoken by this release,
   * not by 0.1.0 nor by a 0.2.0 peer that states no `record`. Records are sharded among holders only
   * once every member speaks it; until then every peer keeps everything.
   */
  record: 1,
} as const satisfies Record<string, number>

/** Protocols release 0.1.0 did not speak at all: a peer that states no hello speaks none of them. */
const SINCE_0_2: ReadonlySet<string> = new Set(['usage', 'record'])

export type ProtocolName = keyof typeof PROTOCOLS

/** The most protocols a statement may name: bounds what a peer keeps of another's hello. */
export const MAX_STATED_PROTOCOLS = 64

export const ReleaseStatementSchema = z.object({
  /** Semver of the peer's release. */
  release: z.string().min(1).max(64),
  /** The version it speaks of each protocol; protocols this release does not know are kept, not refused. */
  protocols: z
    .record(z.string().min(1).max(64), z.number().int().nonnegative().max(1_000_000))
    .refine((p) => Object.keys(p).length <= MAX_STATED_PROTOCOLS, {
      message: `at most ${MAX_STATED_PROTOCOLS} protocols`,
    }),
})
export type ReleaseStatement = z.infer<typeof ReleaseStatementSchema>

/** What a peer that never stated its release is taken to speak: the release before statements. */
export const UNSTATED: ReleaseStatement = {
  release: '0.1.0',
  protocols: Object.fromEntries(
    Object.keys(PROTOCOLS)
      .filter((name) => !SINCE_0_2.has(name))
      .map((name) => [name, 1]),
  ),
}

export const OWN_STATEMENT: ReleaseStatement = { release: RELEASE, protocols: { ...PROTOCOLS } }

/**
 * What the mesh's members speak, as this peer knows it: the gate for writing a new form. A new form
 * is written once `everySpeaks` says every member this peer knows reads it (the oldest member
 * switches a feature on, not the newest).
 */
export interface MeshVersions {
  /** The statement of a peer (by agent key), UNSTATED when it said none, undefined when never met. */
  of(agent: string): ReleaseStatement | undefined
  /**
   * True when this peer and every member heard from lately (online or stale, by the registry, and
   * just after a start every member known; the peers connected now until it runs) speak `protocol` at
   * `version` or above. A member that never stated its release (in a hello or a heartbeat) counts as
   * UNSTATED: a new form waits until it says it reads it.
   */
  everySpeaks(protocol: ProtocolName, version: number): boolean
}
