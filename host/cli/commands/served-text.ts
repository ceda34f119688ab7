/**
 * `ripple task show <request hash>` for a request that went straight to its runner: who asked, who
 * ran it with which model file, what the runner signed against what was served, and the timings.
 */
import type { ServedState } from '../../../zomes-bindings/index.ts'
import { printableText } from '../../text/printable.ts'
import { alignRows, formatBytes } from '../human-format.ts'

export function servedText({ served, answer }: ServedState): string {
  const s = served.entry
  const a = answer?.entry ?? null
  const rows: [string, string][] = [
    ['request', s.request],
    ['kind', `${s.kind} on ${s.model} (routed straight to its runner)`],
    ['requester', served.author],
    ['runner', s.runner],
    ['recorded', new Date(served.timestamp / 1000).toISOString()],
    [
      'verdict',
      s.accepted ? 'accepted: the runner signed the output that was served' : `not accepted: ${s.reason}`,
    ],
    ['served', `${formatBytes(s.usage.output_bytes)} out, output sha256 ${s.output_hash}`],
  ]
  if (a === null) rows.push(['answer', `${s.answer} (not here yet)`])
  else {
    const m = a.metrics
    rows.push(
      ['answer', `${s.answer}: ${a.status}${a.error ? ` (${printableText(a.error)})` : ''}`],
      ['model file', a.model_file_hash ?? 'unknown'],
      ['signed', `output sha256 ${a.output_hash}${a.output_hash === s.output_hash ? '' : ' (differs!)'}`],
      [
        'timings',
        `${m.duration_ms} ms, ${m.tokens_in ?? '?'} tokens in, ${m.tokens_out ?? '?'} out${m.tokens_per_second === null ? '' : `, ${m.tokens_per_second.toFixed(1)} tokens/s`}`,
      ],
    )
  }
  return alignRows(rows)
}
