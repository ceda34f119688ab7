/** `ripple peers`: every peer this daemon knows, with status and load; self first. */
import { Command } from 'commander'
import type { ApiPeer, PeersReply } from '../../api/contract/index.ts'
import { gapText } from '../../interface/version-gap.ts'
import { printable, printableJson } from '../../text/printable.ts'
import { formatBytes, formatDuration, formatTable } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'

export function peersCommand(): Command {
  return addTargetOptions(
    new Command('peers').description('list the peers of the mesh and their status'),
  ).action(async (options: TargetOptions) => {
    const reply = await (await connectDaemon(options)).peers()
    if (options.json) {
      process.stdout.write(`${printableJson(reply)}\n`)
      return
    }
    process.stdout.write(`${table(reply.peers)}\n`)
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

/** One line per warrant: whose ops this host refuses, and why. */
function warrantLines(reply: PeersReply): string {
  return reply.warrants
    .map((w) => `  ${w.agent}  ${printable(`${w.rule}: ${w.reason} (${w.dna ?? 'unknown dna'})`)}`)
    .join('\n')
}
