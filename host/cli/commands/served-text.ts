/**
 * `ripple task show <request hash>` for a request that went straight to its runner, on a peer that
 * took part in it: as requester, what it served against what the runner signed (its leaf, checked
 * against the runner's batch); as runner, its own leaf in its batch. Content is in neither record.
 */

import type { AnswerLeaf, LeafProof } from '../../../zomes-bindings/index.ts'
import type { ServedView } from '../../api/contract/index.ts'
import { alignRows } from '../human-format.ts'

const time = (micros: number) => new Date(micros / 1000).toISOString()

function leafRows(leaf: AnswerLeaf, proof: LeafProof): [string, string][] {
  const ms = Math.round((leaf.finished_at - leaf.started_at) / 1000)
  return [
    ['model', `${leaf.model}, file ${leaf.model_file_hash ?? 'unknown'}`],
    ['signed', `${leaf.status}, output sha256 ${leaf.output_hash}`],
    [
      'timings',
      `${ms} ms from ${time(leaf.started_at)}, ${leaf.tokens_in} tokens in, ${leaf.tokens_out} out`,
    ],
    ['batch', `${proof.batch} (leaf ${proof.index + 1} of ${proof.count})`],
  ]
}

export function servedText({ request, answered, served, checks }: ServedView): string {
  const rows: [string, string][] = [['request', request]]
  if (served) {
    const { leaf, batch } = served
    rows.push(
      ['requester', `${batch.author} (this peer)`],
      ['runner', leaf.runner],
      [
        'verdict',
        leaf.accepted
          ? 'accepted: the runner signed the output that was served'
          : `not accepted: ${leaf.reason}`,
      ],
      [
        'served',
        `output sha256 ${leaf.output_hash}, recorded ${time(batch.timestamp)} in ${batch.action_hash}`,
      ],
    )
    if (leaf.proof) rows.push(...leafRows(leaf.proof.leaf, leaf.proof))
    if (checks.served)
      rows.push(['proof', `${checks.served.valid ? 'valid' : 'INVALID'}: ${checks.served.reason}`])
  }
  if (answered) {
    rows.push(
      ['ran here', `for ${answered.proof.leaf.requester}`],
      ...leafRows(answered.proof.leaf, answered.proof),
    )
    if (checks.answered)
      rows.push(['proof', `${checks.answered.valid ? 'valid' : 'INVALID'}: ${checks.answered.reason}`])
  }
  return alignRows(rows)
}
