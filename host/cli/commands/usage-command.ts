/**
 * `ripple usage`: what this peer served each member and was served by each runner, from the leaves
 * it signed (GET /api/usage): totals over the period by direction, member, API key and model; `--json`
 * gives the hourly rows; `--by session` totals this peer's own requests by the coding agent's session.
 */
import { Command } from 'commander'
import type { PeerUsageView, SessionUsageView, UsageRowView, UsageView } from '../../api/contract/index.ts'
import { printableJson } from '../../text/printable.ts'
import { addUsage } from '../../usage/usage-index.ts'
import { parseDurationMs } from '../cli-options.ts'
import { formatCount, formatTable } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'

interface UsageOptions extends TargetOptions {
  since?: number
  mesh?: boolean
  by?: 'session'
}

/** `--since 24h` (that long ago) or a date (`2026-11-25`, `2026-11-25T04:00Z`), as Unix ms. */
export function parseSince(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?[a-z]+$/i.test(value)) return now - parseDurationMs(value)
  const at = Date.parse(value)
  if (Number.isNaN(at)) throw new Error(`--since takes a duration (24h, 7d) or a date, not "${value}"`)
  return at
}

export function usageCommand(): Command {
  return addTargetOptions(
    new Command('usage')
      .description('requests and tokens this peer served and was served, from its signed records')
      .option('--since <when>', 'from this long ago (24h, 7d) or this date on (default: all)', (v) =>
        parseSince(v),
      )
      .option('--mesh', 'what each online peer signed about this member, and the sum (usage/1.0.0)')
      .option('--by <what>', "session: this peer's own requests by coding-agent session", parseBy),
  ).action(async (options: UsageOptions) => {
    const client = await connectDaemon(options)
    const reply = options.mesh
      ? await client.meshUsage(options.since)
      : await client.usage(options.since, options.by && { by: options.by })
    if (options.json) {
      process.stdout.write(`${printableJson(reply)}\n`)
      return
    }
    const table = reply.mesh
      ? meshTable(reply.mesh)
      : reply.sessions
        ? sessionTable(reply.sessions)
        : usageTable(reply.rows)
    process.stdout.write(`${table}\n`)
  })
}

function parseBy(value: string): 'session' {
  if (value !== 'session') throw new Error(`--by takes session, not "${value}"`)
  return value
}

/** One line per agent session and key, the most recently active first. */
export function sessionTable(sessions: readonly SessionUsageView[]): string {
  if (sessions.length === 0) return 'no agent session named in usage yet'
  return formatTable(
    ['SESSION', 'KEY', 'MODELS', 'REQUESTS', 'FAILED', 'TOKENS IN', 'OUT', 'LAST HOUR'],
    sessions.map((s) => [
      s.session,
      s.key ?? '-',
      s.models.join(','),
      String(s.requests),
      String(s.failed),
      formatCount(s.tokens_in),
      formatCount(s.tokens_out),
      s.last_hour,
    ]),
  )
}

/** One line per peer (what it signed of this member's requests, and of this member serving it), then the sum. */
export function meshTable(mesh: NonNullable<UsageView['mesh']>): string {
  const line = (who: string, u: Pick<PeerUsageView, 'as_runner' | 'as_requester'>, note: string) => [
    who,
    String(u.as_runner.requests),
    formatCount(u.as_runner.tokens_in + u.as_runner.tokens_out),
    String(u.as_requester.requests),
    formatCount(u.as_requester.tokens_in + u.as_requester.tokens_out),
    note,
  ]
  return formatTable(
    ['PEER', 'RAN FOR ME', 'TOKENS', 'I RAN FOR IT', 'TOKENS', 'NOTE'],
    [
      ...mesh.peers.map((p) =>
        line(
          p.self ? 'this peer' : (p.name ?? `${p.agent.slice(0, 12)}…`),
          p,
          p.message ?? (p.release === null ? '' : `Ripple ${p.release}`),
        ),
      ),
      line('sum', mesh.sum, ''),
    ],
  )
}

/** The hourly rows summed over their hours, one line per direction, member, key and model. */
export function usageTable(rows: readonly UsageRowView[]): string {
  if (rows.length === 0) return 'no usage recorded yet'
  const sums = new Map<string, UsageRowView>()
  for (const r of rows) {
    const id = [r.direction, r.member, r.key ?? '', r.model].join('\n')
    const sum = sums.get(id)
    if (sum === undefined) sums.set(id, { ...r })
    else addUsage(sum, r)
  }
  return formatTable(
    ['DIRECTION', 'MEMBER', 'KEY', 'MODEL', 'REQUESTS', 'FAILED', 'TOKENS IN', 'OUT', 'REASONING', 'BUSY'],
    [...sums.values()].map((r) => [
      r.direction === 'served' ? 'served to' : 'served by',
      `${r.member.slice(0, 12)}…`,
      r.key ?? '-',
      r.model,
      String(r.requests),
      String(r.failed),
      formatCount(r.tokens_in),
      formatCount(r.tokens_out),
      formatCount(r.reasoning_tokens),
      `${r.busy_s.toFixed(1)} s`,
    ]),
  )
}
