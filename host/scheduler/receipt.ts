/**
 * The requester's judgement: whether a result is one to accept, and the Receipt that closes a task:
 * the chosen result, a vote for every result judged and the usage. The accepted answers are reduced
 * by agreement (./agreement.ts): the first answer of the winning group is the chosen result, and
 * each vote says whether it is in that group. With one slot that is the one answer, if it is good.
 */
import { z } from 'zod'
import {
  type Assignment,
  type EntryRecord,
  fitText,
  LIMITS,
  type Receipt,
  Sha256HexSchema,
  type Task,
  type TaskResult,
  type Vote,
} from '../../zomes-bindings/index.ts'
import { payloadBytes } from '../identity/payload-hash.ts'
import { type Answer, answerOf, tally } from './agreement.ts'

export interface Verdict {
  accepted: boolean
  reason: string
}

/** A slot's result as the requester judged it, with its output when the requester holds it. */
export interface Judged {
  slot: number
  result: EntryRecord<TaskResult>
  output: unknown
  verdict: Verdict
}

/**
 * Whether a result for `assignment` is one to accept: by the assignee, ok, and its output given to the
 * requester (`output`: what the requester holds under the result's output_hash, opened when sealed on
 * IPFS; undefined when none).
 */
export function verifyResult(
  result: EntryRecord<TaskResult>,
  assignment: EntryRecord<Assignment>,
  output: unknown,
): Verdict {
  const r = result.entry
  if (result.author !== assignment.entry.assignee) {
    return { accepted: false, reason: `written by ${result.author}, not the assignee` }
  }
  if (r.assignment !== assignment.action_hash) return { accepted: false, reason: 'for another assignment' }
  if (r.status === 'error')
    return { accepted: false, reason: `the worker failed on ${result.author}: ${r.error}` }
  // Held under the result's output_hash is what that hash names; sealed on IPFS, that is the key record,
  // and the output was opened with it and checked against the sha256 it names.
  if (output === undefined)
    return {
      accepted: false,
      reason:
        r.output_cid === null
          ? `${result.author} never gave the output its result names to the requester`
          : `the output at ${r.output_cid} was not opened: ${result.author} never gave its key, or it could not be fetched`,
    }
  return { accepted: true, reason: 'output hash verified' }
}

/**
 * The receipt over the results judged (at least one), one per slot; `unfilled` slots found no
 * claimant. Ties between groups go to the earliest answer (by the result's timestamp, then hash).
 */
export function receiptFor(task: EntryRecord<Task>, judged: readonly Judged[], unfilled: number): Receipt {
  const answers = new Map<string, Answer>()
  for (const j of [...judged].sort(byArrival)) {
    if (j.verdict.accepted) answers.set(j.result.action_hash, answerOf(task.entry.kind, j.output ?? null))
  }
  const { groups, similarity } = tally([...answers].map(([id, answer]) => ({ id, answer })))
  const winners = groups[0] ?? []
  // With no answer at all, the receipt refuses the latest result.
  const chosen =
    judged.find((j) => j.result.action_hash === winners[0]) ?? [...judged].sort(byArrival).at(-1)!
  const votes = judged.map((j): Vote => {
    const id = j.result.action_hash
    const group = groups.findIndex((g) => g.includes(id))
    return {
      result: id,
      assignee: j.result.author,
      model_file_hash: modelFileHashOf(j.output ?? null),
      group: group === -1 ? null : group,
      // Four decimals read agreement well enough and keep receipts short.
      similarity:
        answers.get(id)?.type === 'vectors' ? Math.round((similarity.get(id) ?? 0) * 1e4) / 1e4 : null,
      agree: group === 0,
    }
  })
  const reason =
    task.entry.fan_out === 1
      ? chosen.verdict.reason
      : [
          answers.size > 0 ? `${winners.length} of ${answers.size} answers agree` : 'no answer',
          ...judged.filter((j) => !j.verdict.accepted).map((j) => `slot ${j.slot}: ${j.verdict.reason}`),
          ...(unfilled > 0 ? [`${unfilled} slot${unfilled === 1 ? '' : 's'} found no claimant`] : []),
        ].join('; ')
  return {
    task: task.action_hash,
    result: chosen.result.action_hash,
    accepted: winners.length > 0,
    // A worker's error may be longer than a receipt's reason.
    reason: fitText(reason, LIMITS.reason.max, true),
    usage: usageOf(judged),
    votes,
  }
}

/** What the results cost, summed: time, tokens (null when none reports any) and output bytes. */
function usageOf(judged: readonly Judged[]): Receipt['usage'] {
  let tokens: number | null = null
  for (const { metrics } of judged.map((j) => j.result.entry)) {
    if (metrics.tokens_in !== null || metrics.tokens_out !== null)
      tokens = (tokens ?? 0) + (metrics.tokens_in ?? 0) + (metrics.tokens_out ?? 0)
  }
  return {
    duration_ms: judged.reduce((sum, j) => sum + j.result.entry.metrics.duration_ms, 0),
    tokens,
    output_bytes: judged.reduce((sum, j) => sum + payloadBytes(j.output ?? null).length, 0),
  }
}

const ModelOutputSchema = z.object({ model: z.object({ file_hash: Sha256HexSchema }) })

/** The model file an inference output names (`model.file_hash`), or null for other outputs. */
function modelFileHashOf(output: unknown): string | null {
  const parsed = ModelOutputSchema.safeParse(output)
  return parsed.success ? parsed.data.model.file_hash : null
}

function byArrival(a: Judged, b: Judged): number {
  const [x, y] = [a.result.action_hash, b.result.action_hash]
  return a.result.timestamp - b.result.timestamp || (x < y ? -1 : x > y ? 1 : 0)
}
