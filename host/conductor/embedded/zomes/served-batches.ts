/**
 * resource_mesh's batches of direct requests: a window's leaves as a private entry (on this agent's
 * chain only) and its root and totals as a public one citing it. A request is found again on the chain
 * of the peers that took part in it (the runner's leaves, the requester's), never on a bystander's.
 */
import {
  type AnswerBatch,
  type AnswerLeaves,
  answerLeafBytes,
  type BatchRef,
  type EntryRecord,
  merklePaths,
  type ServedBatch,
  type ServedLeaves,
  type ServedRecord,
} from '../../../../zomes-bindings/index.ts'
import { decodeHashB64, encodeHashB64 } from '../../../identity/hash.ts'
import type { Hdk } from '../hdk.ts'
import { liveEntryRecord, toEntryRecord, toRecordRef } from './entry-record.ts'
import type { CoordinatorZome } from './index.ts'

/** How many windows back a request is looked for on this agent's chain. */
const LOOKBACK_WINDOWS = 4096

type BatchFns = Pick<
  CoordinatorZome<'resource_mesh'>,
  'post_answer_batch' | 'record_served_batch' | 'get_served' | 'get_answer_batch'
>

export const servedBatchFns: BatchFns = {
  post_answer_batch(hdk, { leaves, opened_at, closed_at }) {
    return writeWindow(hdk, 'AnswerLeaves', leaves, 'AnswerBatch', (entry) => ({
      root: leaves.root,
      leaves: entry,
      totals: leaves.totals,
      opened_at,
      closed_at,
    }))
  },

  record_served_batch(hdk, { leaves, opened_at, closed_at }) {
    return writeWindow(hdk, 'ServedLeaves', leaves, 'ServedBatch', (entry) => ({
      root: leaves.root,
      leaves: entry,
      totals: leaves.totals,
      accepted: leaves.accepted,
      opened_at,
      closed_at,
    }))
  },

  get_served(hdk, request) {
    const answered = answeredHere(hdk, request)
    const served = servedHere(hdk, request)
    return answered === null && served === null ? null : { request, answered, served }
  },

  get_answer_batch(hdk, hash) {
    return liveEntryRecord<AnswerBatch>(hdk, decodeHashB64(hash, 'action'), 'AnswerBatch')
  },
}

function writeWindow(
  hdk: Hdk,
  leavesType: string,
  leaves: unknown,
  batchType: string,
  batch: (leavesEntry: string) => unknown,
): BatchRef {
  const entry = toRecordRef(hdk.get(hdk.create_entry(leavesType, leaves))!).entry_hash
  const action = hdk.create_entry(batchType, batch(entry))
  return { batch: encodeHashB64(action), leaves: entry }
}

/** The batch of `batchType` on this chain that cites `leavesEntry`, searched from the newest. */
function batchCiting<T extends { leaves: string }>(
  hdk: Hdk,
  batchType: string,
  leavesEntry: string,
): EntryRecord<T> | null {
  for (const record of hdk.query(batchType, LOOKBACK_WINDOWS)) {
    const batch = toEntryRecord<T>(hdk, record)
    if (batch.entry.leaves === leavesEntry) return batch
  }
  return null
}

function answeredHere(hdk: Hdk, request: string): ServedRecord['answered'] {
  for (const record of hdk.query('AnswerLeaves', LOOKBACK_WINDOWS)) {
    const leaves = toEntryRecord<AnswerLeaves>(hdk, record).entry
    const index = leaves.leaves.findIndex((l) => l.request === request)
    if (index < 0) continue
    const batch = batchCiting<AnswerBatch>(hdk, 'AnswerBatch', toRecordRef(record).entry_hash)
    if (batch === null) return null
    const leaf = leaves.leaves[index]!
    const path = merklePaths(leaves.leaves.map(answerLeafBytes))[index]!
    return {
      proof: { batch: batch.action_hash, leaf, index, count: leaves.leaves.length, path },
      batch,
    }
  }
  return null
}

function servedHere(hdk: Hdk, request: string): ServedRecord['served'] {
  for (const record of hdk.query('ServedLeaves', LOOKBACK_WINDOWS)) {
    const leaf = toEntryRecord<ServedLeaves>(hdk, record).entry.leaves.find((l) => l.request === request)
    if (leaf === undefined) continue
    const batch = batchCiting<ServedBatch>(hdk, 'ServedBatch', toRecordRef(record).entry_hash)
    if (batch === null) return null
    const runnerBatch =
      leaf.proof === null
        ? null
        : liveEntryRecord<AnswerBatch>(hdk, decodeHashB64(leaf.proof.batch, 'action'), 'AnswerBatch')
    return { leaf, batch, runner_batch: runnerBatch }
  }
  return null
}
