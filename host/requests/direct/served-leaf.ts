/**
 * What a requester records of one request: the runner's leaf and proof when they are for this very
 * request, asked by this peer, and lead to the root the runner gave; accepted only when the runner
 * signed it as answered with the output this peer served; and how anyone checks a leaf against a
 * runner's public batch. Pure.
 */
import { randomBytes } from 'node:crypto'
import {
  type AnswerBatch,
  answerLeafBytes,
  COVER_REASON,
  type EntryRecord,
  type LeafProof,
  type ServedLeaf,
  verifyMerklePath,
} from '../../../zomes-bindings/index.ts'
import type { SignedLeaf } from './direct-runner.ts'

export interface ServedFacts {
  request: string
  requester: string
  runner: string
  model: string
  /** sha256 of the output this peer served. */
  outputHash: string
  /** What the runner sent once its window was signed; null when nothing came. */
  signed: SignedLeaf | null
}

/**
 * The one leaf of a slot in which this peer asked for nothing (`COVER_REASON`). Its hashes are random,
 * so its window's root and entry hash are like any other window's.
 */
export function coverLeaf(self: string): ServedLeaf {
  const random = () => randomBytes(32).toString('hex')
  return {
    request: random(),
    runner: self,
    model: 'cover',
    proof: null,
    output_hash: random(),
    accepted: false,
    reason: COVER_REASON,
  }
}

export function servedLeaf(facts: ServedFacts): ServedLeaf {
  const { request, runner, model, outputHash, signed } = facts
  const base = { request, runner, model, output_hash: outputHash }
  const unproven = (reason: string): ServedLeaf => ({ ...base, proof: null, accepted: false, reason })
  if (signed === null)
    return unproven(
      'the runner signed no record of it (it went away, or failed, before its window was signed)',
    )
  const { proof, root } = signed
  const { leaf } = proof
  if (leaf.request !== request || leaf.requester !== facts.requester || leaf.model !== model)
    return unproven('the runner’s leaf is for another request')
  if (!verifyMerklePath(answerLeafBytes(leaf), proof.index, proof.count, proof.path, root))
    return unproven('the runner’s proof does not lead to the root it gave')
  const judged = (accepted: boolean, reason: string): ServedLeaf => ({ ...base, proof, accepted, reason })
  if (leaf.status !== 'ok') return judged(false, 'the runner signed it as failed')
  if (leaf.output_hash !== outputHash)
    return judged(false, 'the runner signed another output than the one it served')
  return judged(true, '')
}

export interface LeafCheck {
  valid: boolean
  /** What was checked, or what failed. */
  reason: string
}

/**
 * Checks a leaf and its path against a runner's public batch: the path leads from the leaf to the
 * batch's root, in a tree of the batch's size, and the batch is the named runner's (its signature was
 * checked when the action was stored). Anyone holding the batch can check it: no content is needed.
 */
export function checkLeafProof(
  proof: LeafProof,
  batch: EntryRecord<AnswerBatch> | null,
  runner?: string,
): LeafCheck {
  if (batch === null) return { valid: false, reason: `batch ${proof.batch} is not known here` }
  if (batch.action_hash !== proof.batch)
    return { valid: false, reason: `the proof cites batch ${proof.batch}, not ${batch.action_hash}` }
  if (runner !== undefined && batch.author !== runner)
    return { valid: false, reason: `the batch was signed by ${batch.author}, not the runner ${runner}` }
  if (batch.entry.totals.count !== proof.count)
    return {
      valid: false,
      reason: `the batch holds ${batch.entry.totals.count} leaves, the proof says ${proof.count}`,
    }
  if (!verifyMerklePath(answerLeafBytes(proof.leaf), proof.index, proof.count, proof.path, batch.entry.root))
    return { valid: false, reason: 'the path does not lead from the leaf to the batch’s root' }
  return {
    valid: true,
    reason: `leaf ${proof.index + 1} of ${proof.count} leads to root ${batch.entry.root}, in a batch signed by ${batch.author}`,
  }
}
