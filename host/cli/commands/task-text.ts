/**
 * A task as `ripple task` shows it to a person: the list, one task's rows (what it needs, its claims,
 * attempts, receipt and output), and a fanned-out task's votes (`ripple infer --fan-out` reports them too).
 */
import { z } from 'zod'
import { acceptedOutput, acceptedResult, type TaskSummary, type TaskView } from '../../api/contract/index.ts'
import { printable } from '../../text/printable.ts'
import { alignRows, formatBytes, formatDuration, formatTable } from '../human-format.ts'

const ModelOutputSchema = z.object({ model: z.object({ name: z.string() }) })

/** The receipt's votes, one line each: the peer, the model file that answered, and whether it agrees. */
export function voteLines(view: TaskView): string[] {
  const { receipt } = view.state
  return (receipt?.entry.votes ?? []).map((v) => {
    const model = ModelOutputSchema.safeParse(view.payloads.outputs[v.result])
    const by = [
      short(v.assignee),
      model.success && model.data.model.name,
      v.model_file_hash && short(v.model_file_hash),
    ]
    const verdict = v.agree ? 'agrees' : v.group === null ? 'gave no answer' : 'differs'
    const similarity = v.similarity === null ? '' : ` (similarity ${v.similarity})`
    return `${by.filter(Boolean).join(' ')}: ${verdict}${similarity}`
  })
}

/** For a task that fanned out, how its answers were reduced, on stderr: the receipt's reason and the votes. */
export function reportVotes(view: TaskView): void {
  if (view.state.task.entry.fan_out === 1) return
  const lines = [view.state.receipt?.entry.reason ?? '', ...voteLines(view).map((line) => `vote ${line}`)]
  process.stderr.write(lines.map((line) => `ripple: ${printable(line)}\n`).join(''))
}

export const short = (hash: string) => `${hash.slice(0, 12)}…`
const when = (micros: number) => new Date(micros / 1000).toISOString()

export function taskTable(tasks: readonly TaskSummary[]): string {
  if (tasks.length === 0) return 'no tasks'
  return formatTable(
    ['TASK', 'KIND', 'STATUS', 'CLAIMS', 'ATTEMPTS', 'AUTHOR', 'SUBMITTED'],
    tasks.map((t) => [
      t.action_hash,
      t.kind,
      t.status,
      String(t.claims),
      String(t.attempts),
      short(t.author),
      when(t.submitted_at),
    ]),
  )
}

export function taskText(view: TaskView): string {
  const { task, claims, assignments, results, receipt, cancellation, status } = view.state
  const t = task.entry
  const r = t.requirements
  const needs = [
    r.min_ram_bytes > 0 && `RAM ${formatBytes(r.min_ram_bytes)}`,
    r.gpu && 'a GPU',
    r.min_vram_bytes > 0 && `VRAM ${formatBytes(r.min_vram_bytes)}`,
    r.min_cores > 0 && `${r.min_cores} cores`,
    r.model && `model ${r.model}`,
    r.tags.length > 0 && `tags ${r.tags.join(', ')}`,
  ].filter(Boolean)
  const rows: [string, string][] = [
    ['task', task.action_hash],
    ['kind', t.kind],
    ['status', status],
    ['author', task.author],
    ['submitted', when(task.timestamp)],
    ['deadline', when(t.deadline)],
    ['needs', needs.length > 0 ? needs.join(', ') : 'any node'],
    ['lease', `${formatDuration(t.lease_ms)}, up to ${t.max_attempts} attempts`],
    ...(t.fan_out > 1
      ? [['fan-out', `${t.fan_out} peers, answers reduced by agreement`] as [string, string]]
      : []),
    view.payloads.input !== null
      ? ['input', clip(JSON.stringify(view.payloads.input))]
      : t.input_cid !== null
        ? ['input', `sealed on IPFS at ${t.input_cid}; only the requester and its assignees hold the key`]
        : [
            'input',
            `private to the requester and its assignees (${formatBytes(t.input_bytes)}, sha256 ${short(t.input_hash)})`,
          ],
  ]
  if (view.why_unclaimed) rows.push(['unclaimed', view.why_unclaimed])
  for (const c of claims) {
    const s = c.entry.snapshot
    rows.push([
      'claim',
      `${short(c.author)} ${s.cores} cores, ${formatBytes(s.ram_bytes)} RAM, queue ${s.queue_depth}`,
    ])
  }
  for (const a of assignments) {
    const result = results.find((x) => x.entry.assignment === a.action_hash)
    const outcome = result
      ? `${result.entry.status}${result.entry.error ? `: ${result.entry.error}` : ''} in ${result.entry.metrics.duration_ms} ms`
      : `lease until ${when(a.entry.lease_expires_at)}`
    const label =
      t.fan_out > 1 ? `slot ${a.entry.slot} attempt ${a.entry.attempt}` : `attempt ${a.entry.attempt}`
    rows.push([label, `${short(a.entry.assignee)} ${outcome}`])
  }
  if (receipt) {
    const u = receipt.entry.usage
    const verdict = receipt.entry.accepted ? 'accepted' : 'not accepted'
    rows.push([
      'receipt',
      `${verdict} (${receipt.entry.reason}); ${u.duration_ms} ms, ${u.output_bytes} bytes out`,
    ])
    if (t.fan_out > 1) for (const line of voteLines(view)) rows.push(['vote', line])
    const accepted = acceptedResult(view)
    const outputCid = accepted?.entry.output_cid ?? null
    const output = acceptedOutput(view)
    rows.push([
      'output',
      output !== null || !accepted
        ? clip(JSON.stringify(output))
        : outputCid === null
          ? `private to the requester and its assignee (sha256 ${short(accepted.entry.output_hash)})`
          : `sealed on IPFS at ${outputCid}; only the requester and its assignee hold the key`,
    ])
    if (outputCid !== null)
      rows.push([
        'artifact',
        `${outputCid} (\`ripple artifact show ${outputCid}\`: its provenance names this task)`,
      ])
  }
  if (cancellation) rows.push(['cancelled', cancellation.entry.reason || 'no reason given'])
  for (const d of view.decisions) {
    const verdict = d.entry.allowed ? 'allowed' : 'denied'
    rows.push(['decision', `${d.entry.action} ${verdict} for ${short(d.entry.subject)}: ${d.entry.reason}`])
  }
  return alignRows(rows)
}

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}
