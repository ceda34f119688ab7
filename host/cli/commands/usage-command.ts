/**
 * `ripple usage`: what this peer served each member and was served by each runner, from the leaves
 * it signed (GET /api/usage): totals over the period by direction, member, API key and model; `--json`
 * gives the hourly rows.
 */
import { Command } from 'commander'
import type { UsageRowView } from '../../api/contract/index.ts'
import { printableJson } from '../../text/printable.ts'
import { parseDurationMs } from '../cli-options.ts'
import { formatCount, formatTable } from '../human-format.ts'
import { connectDaemon } from '../locate-daemon.ts'
import { addTargetOptions, type TargetOptions } from '../target-options.ts'

interface UsageOptions extends TargetOptions {
  since?: number
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
      ),
  ).action(async (options: UsageOptions) => {
    const reply = await (await connectDaemon(options)).usage(options.since)
    if (options.json) {
      process.stdout.write(`${printableJson(reply)}\n`)
      return
    }
    process.stdout.write(`${usageTable(reply.rows)}\n`)
  })
}

/** The hourly rows summed over their hours, one line per direction, member, key and model. */
export function usageTable(rows: readonly UsageRowView[]): string {
  if (rows.length === 0) return 'no usage recorded yet'
  const sums = new Map<string, UsageRowView>()
  for (const r of rows) {
    const id = [r.direction, r.member, r.key ?? '', r.model].join('\n')
    const sum = sums.get(id)
    if (sum === undefined) sums.set(id, { ...r })
    else
      for (const k of [
        'requests',
        'failed',
        'tokens_in',
        'tokens_out',
        'reasoning_tokens',
        'busy_s',
      ] as const)
        sum[k] += r[k]
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
