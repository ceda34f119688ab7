/**
 * The mesh-peers report (../mesh-peers.ts) from what each size came to: the table's rows and the
 * figures of every size measured, and for a size that failed (a daemon that exited before it was
 * ready, a mesh that did not form) a row saying why and `n<N>_failed: 1`, so one failed size loses
 * neither the sizes before it nor those after. Pure.
 */
import { SYNC_PROTOCOL } from '../../host/conductor/embedded/replication/anti-entropy.ts'
import { HELD_SYNC_PROTOCOL } from '../../host/conductor/embedded/replication/neighbourhood-sync.ts'
import { RECORD_PUSH_PROTOCOL } from '../../host/conductor/embedded/replication/op-push.ts'
import { RECORD_GET_PROTOCOL } from '../../host/conductor/embedded/replication/record-get-wire.ts'
import { median, round } from '../measure.ts'
import type { StoredCounts } from '../store-breakdown.ts'

export type Role = 'runner' | 'requester' | 'bystander'

/** Protocol names without the network's own prefix (`/ripple/<id>/`), for the table. */
const shortName = (protocol: string) => protocol.replace(/^\/ripple\/[0-9a-f]+\//, '')

/**
 * The record's own protocols (issue 57: flat from 16 peers, where it shards), apart from what every
 * peer pays for membership, discovery and liveness (issue 56: flat from 8). Gossip is the rest, though
 * an unsharded mesh's ops ride its ops topic too.
 */
const RECORD_PROTOCOLS = new Set([
  SYNC_PROTOCOL,
  HELD_SYNC_PROTOCOL,
  RECORD_PUSH_PROTOCOL,
  RECORD_GET_PROTOCOL,
])
const ofRecord = (protocol: string) => RECORD_PROTOCOLS.has(shortName(protocol))

/** A peer's messages a second on the record's protocols, and on the rest. */
function msgsByPart(cost: PeerCost): { record: number; mesh: number } {
  let record = 0
  for (const [p, perS] of cost.protocols) if (ofRecord(p)) record += perS
  return { record, mesh: cost.msgsPerS - record }
}

export interface PeerCost {
  role: Role
  connections: number
  /** Connections opened a second, both directions: each a handshake at both ends. */
  openedPerS: number
  cpuMsPerS: number
  msgsPerS: number
  bytesPerS: number
  rssMb: number
  opsStoredPerS: number
  storeKbPerMin: number
  pushesPerS: number
  unknownReleases: number
  /** Other agents' ops signed in the window and stored here, by kind (store-breakdown.ts). */
  stored: StoredCounts
  /** Messages a second by protocol. */
  protocols: Map<string, number>
  /** Zome reads asked of holders a second, by DNA/function/kind. */
  reads: Map<string, number>
  /** Gossipsub RPC parts sent a second (of IHAVE, IWANT, IDONTWANT: ids), by `<topic class>:<part>`. */
  gossip: Map<string, number>
}

/** What one size came to: its windows, its idle window and why its load could not start, or why it failed. */
export type SizeOutcome =
  | { size: number; idle: PeerCost[]; load: PeerCost[]; served: number }
  | { size: number; idle: PeerCost[]; loadFailed: string }
  | { size: number; failed: string }

/** Why a size failed, in a line: the first of the error's message (the daemons' output is kept apart). */
export function whyFailed(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.split('\n', 1)[0]!.trim() || 'failed without a message'
}

/** The rows and figures over every size, in the order run; `windowS`: each window's length. */
export function meshPeersReport(
  outcomes: readonly SizeOutcome[],
  windowS: number,
): { rows: Record<string, string | number>[]; figures: Record<string, number> } {
  const table: Record<string, string | number>[] = []
  const figures: Record<string, number> = {}
  for (const outcome of outcomes) {
    const { size } = outcome
    if ('failed' in outcome) {
      table.push({ N: size, phase: 'failed', failed: outcome.failed })
      figures[`n${size}_failed`] = 1
      continue
    }
    const { idle } = outcome
    const phases: ['idle' | 'load', PeerCost[]][] = [['idle', idle]]
    table.push(...rows(size, 'idle', idle))
    if ('loadFailed' in outcome) {
      table.push({ N: size, phase: 'load failed', failed: outcome.loadFailed })
      figures[`n${size}_load_failed`] = 1
    } else {
      table.push(...rows(size, 'load', outcome.load))
      phases.push(['load', outcome.load])
    }
    for (const [phase, costs] of phases) {
      const by = costs.filter((c) => c.role === 'bystander')
      const group = by.length > 0 ? by : costs
      figures[`n${size}_${phase}_bystander_connections`] = round(median(group.map((c) => c.connections)), 1)
      figures[`n${size}_${phase}_bystander_connections_opened_per_s`] = round(
        median(group.map((c) => c.openedPerS)),
        3,
      )
      figures[`n${size}_${phase}_bystander_msgs_per_s`] = round(median(group.map((c) => c.msgsPerS)), 2)
      for (const part of ['record', 'mesh'] as const)
        figures[`n${size}_${phase}_bystander_msgs_per_s ${part}`] = round(
          median(group.map((c) => msgsByPart(c)[part])),
          2,
        )
      figures[`n${size}_${phase}_bystander_bytes_per_s`] = round(median(group.map((c) => c.bytesPerS)), 0)
      figures[`n${size}_${phase}_bystander_cpu_ms_per_s`] = round(median(group.map((c) => c.cpuMsPerS)), 2)
      figures[`n${size}_${phase}_bystander_rss_mb`] = round(median(group.map((c) => c.rssMb)), 0)
      figures[`n${size}_${phase}_bystander_ops_stored_per_s`] = round(
        median(group.map((c) => c.opsStoredPerS)),
        2,
      )
      for (const [p, perS] of meanOf(group.map((c) => c.protocols)))
        figures[`n${size}_${phase}_bystander_msgs_per_s_mean ${shortName(p)}`] = round(perS, 2)
      figures[`n${size}_${phase}_bystander_store_kb_per_min`] = round(
        median(group.map((c) => c.storeKbPerMin)),
        1,
      )
      // Peer by peer, as two medians apart pair different peers: a sharded mesh's bystanders split
      // into holders of a busy chain and the rest (issue 57: whether ops grow or what each costs).
      figures[`n${size}_${phase}_bystander_store_bytes_per_op`] = round(
        median(
          group
            .filter((c) => c.opsStoredPerS > 0)
            .map((c) => (c.storeKbPerMin * 1024) / (c.opsStoredPerS * 60)),
        ),
        0,
      )
      // Which of the gossip grows with the mesh (issue 56).
      for (const [part, perS] of medianOf(group.map((c) => c.gossip)))
        figures[`n${size}_${phase}_bystander_gossip_${part.replace(':', '_')}_per_s`] = round(perS, 2)
      for (const [kind, perMin] of storedPerMin(group, windowS))
        figures[`n${size}_${phase}_bystander_stored_per_min ${kind}`] = perMin
      figures[`n${size}_${phase}_bystander_releases_unknown`] = median(group.map((c) => c.unknownReleases))
    }
    // Who asks holders: every peer's reads a second, by what asked, over the mesh (idle).
    for (const [read, perS] of meanOf(idle.map((c) => c.reads)))
      figures[`n${size}_idle_reads_per_s_a_peer ${read}`] = round(perS, 3)
    if ('served' in outcome) figures[`n${size}_load_requests_per_s`] = round(outcome.served / windowS, 2)
  }
  return { rows: table, figures }
}

function rows(size: number, phase: 'idle' | 'load', costs: PeerCost[]): Record<string, string | number>[] {
  const of = (role: Role) => costs.filter((c) => c.role === role)
  return (['runner', 'requester', 'bystander'] as const)
    .filter((role) => of(role).length > 0)
    .map((role) => {
      const group = of(role)
      const med = (f: (c: PeerCost) => number) => round(median(group.map(f)), 1)
      const max = (f: (c: PeerCost) => number) => round(Math.max(...group.map(f)), 1)
      /** The `n` largest of the group's means, named. */
      const top = (maps: Map<string, number>[], n: number, name = (key: string) => key) =>
        meanOf(maps)
          .slice(0, n)
          .map(([key, v]) => `${name(key)} ${round(v, 1)}`)
          .join(', ')
      return {
        N: size,
        phase,
        role: `${role}${group.length > 1 ? ` x${group.length}` : ''}`,
        connections: `${med((c) => c.connections)} (max ${max((c) => c.connections)})`,
        'connections opened/s': `${med((c) => c.openedPerS)} (max ${max((c) => c.openedPerS)})`,
        'msgs/s': `${med((c) => c.msgsPerS)} (max ${max((c) => c.msgsPerS)})`,
        'KB/s': `${round(median(group.map((c) => c.bytesPerS)) / 1024, 2)}`,
        'CPU ms/s': `${med((c) => c.cpuMsPerS)} (max ${max((c) => c.cpuMsPerS)})`,
        'RSS MB': med((c) => c.rssMb),
        'ops stored/s': `${med((c) => c.opsStoredPerS)} (max ${max((c) => c.opsStoredPerS)})`,
        'store KB/min': `${med((c) => c.storeKbPerMin)} (max ${max((c) => c.storeKbPerMin)})`,
        'pushes/s': med((c) => c.pushesPerS),
        'releases unknown': `${med((c) => c.unknownReleases)} (max ${max((c) => c.unknownReleases)})`,
        'msgs/s by protocol (top 3)': top(
          group.map((c) => c.protocols),
          3,
          shortName,
        ),
        'gossip sent by part (top 4, /s)': top(
          group.map((c) => c.gossip),
          4,
        ),
      }
    })
}

/** Other agents' ops stored in the window a minute, by kind: the median over `group`, largest first. */
function storedPerMin(group: readonly PeerCost[], windowS: number): [string, number][] {
  const kinds = new Set(group.flatMap((c) => [...c.stored.keys()]))
  return [...kinds]
    .map((k): [string, number] => [
      k,
      round((median(group.map((c) => c.stored.get(k) ?? 0)) * 60) / windowS, 1),
    ])
    .sort((a, b) => b[1] - a[1])
}

/** The median of each key over `maps` (a key absent counts 0), largest first. */
function medianOf(maps: readonly Map<string, number>[]): [string, number][] {
  const keys = new Set(maps.flatMap((m) => [...m.keys()]))
  return [...keys]
    .map((k): [string, number] => [k, median(maps.map((m) => m.get(k) ?? 0))])
    .sort((a, b) => b[1] - a[1])
}

/** The mean of each key over `maps` (a key absent counts 0). */
function meanOf(maps: readonly Map<string, number>[]): [string, number][] {
  const sums = new Map<string, number>()
  for (const m of maps) for (const [k, v] of m) sums.set(k, (sums.get(k) ?? 0) + v / maps.length)
  return [...sums].sort((a, b) => b[1] - a[1])
}
