/**
 * `ripple peers`: the peers this daemon knows, with status and load, self first, a page at a time
 * (`--page`, `--limit`), and the count of members of the mesh.
 */
import { Command, InvalidArgumentError } from 'commander'
import type { ApiPeer, PeersReply } from '../../api/contract/index.ts'
import { gapText } from '../../interface/version-gap.ts'
import { printable, printableJson } from '../../text/printable.ts'
import { formatBytes, formatDuration, formatTable } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'

export function peersCommand(): Command {
  return addTargetOptions(
    new Command('peers')
      .description('list the peers of the mesh and their status, a page at a time, with the count of members')
      .option('--page <n>', 'which page of peers (from 1)', positive, 1)
      .option('--limit <n>', 'peers per page (at most 1000)', positive, 100),
  ).action(async (options: TargetOptions & { page: number; limit: number }) => {
    const reply = await (await connectDaemon(options)).peers({ page: options.page, limit: options.limit })
    if (options.json) {
      process.stdout.write(`${printableJson(reply)}\n`)
      return
    }
    process.stdout.write(`${table(reply.peers)}\n`)
    if (reply.total !== undefined) process.stdout.write(`${countLine(reply)}\n`)
    if (reply.warrants.length > 0) process.stdout.write(`\nwarrants:\n${warrantLines(reply)}\n`)
  })
}

function table(peers: readonly ApiPeer[]): string {
  const header = [
    'AGENT',
    'NAME',
    'STATUS',
    'LINK',
    'CPU',
    'RAM',
    'GPU',
    'CORES',
    'MEMORY',
    'HEARD',
    'RELEASE',
    'WARRANT',
  ]
  const rows = peers.map((p) => [
    `${p.agent.slice(0, 12)}…${p.self ? ' (self)' : ''}`,
    p.name ?? '?',
    p.revoked ? `${p.status} (revoked)` : p.status,
    linkText(p),
    p.load ? `${p.load.cpu_pct.toFixed(0)}%` : '-',
    p.load ? `${p.load.ram_pct.toFixed(0)}%` : '-',
    p.load?.gpu_pct == null ? '-' : `${p.load.gpu_pct.toFixed(0)}%`,
    p.capability ? String(p.capability.hardware.cpu.cores) : '-',
    p.capability ? formatBytes(p.capability.hardware.ram_bytes) : '-',
    p.last_heartbeat_ms_ago === null ? 'never' : `${formatDuration(p.last_heartbeat_ms_ago)} ago`,
    p.release ? printable(p.release.release) : '?',
    p.warrant ? p.warrant.rule : '-',
  ])
  // The models a peer heads split over others: which peers hold how many layers.
  const splits = peers.flatMap((p) =>
    (p.load?.splits ?? []).map(
      (s) =>
        `split ${s.model} headed by ${p.name ?? p.agent.slice(0, 12)}: ` +
        s.peers.map((w) => `${w.agent.slice(0, 12)}… ${w.layers} layers ${formatBytes(w.bytes)}`).join(', '),
    ),
  )
  return [formatTable(header, rows), ...splits, ...versionGaps(peers)].join('\n')
}

/** A line for each peer that speaks another version of a protocol than this one, and who should upgrade. */
function versionGaps(peers: readonly ApiPeer[]): string[] {
  const own = peers.find((p) => p.self)?.release
  if (!own) return []
  return peers.flatMap((p) => {
    const gap = p.self || !p.release ? null : gapText(p.name ?? p.agent.slice(0, 12), own, p.release)
    return gap === null ? [] : [printable(gap)]
  })
}

/** direct, or relayed via which relay (its PeerId's tail), or - when not connected. */
function linkText(p: ApiPeer): string {
  if (p.self || !p.link) return '-'
  return p.link.path === 'direct' ? 'direct' : `relayed via …${(p.link.via ?? '?').slice(-8)}`
}

function positive(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number from 1')
  return n
}

/** Members, peers known, and which page this is (with how to see the next). */
export function countLine(reply: Pick<PeersReply, 'members' | 'total' | 'page' | 'limit'>): string {
  const total = reply.total ?? 0
  const page = reply.page ?? 1
  const pages = Math.max(1, Math.ceil(total / (reply.limit ?? Math.max(total, 1))))
  const more = page < pages ? `; next: ripple peers --page ${page + 1}` : ''
  return `${reply.members ?? '?'} members, ${total} peers known here, page ${page} of ${pages}${more}`
}

/** One line per warrant: whose ops this host refuses, and why. */
function warrantLines(reply: PeersReply): string {
  return reply.warrants
    .map((w) => `  ${w.agent}  ${printable(`${w.rule}: ${w.reason} (${w.dna ?? 'unknown dna'})`)}`)
    .join('\n')
}
