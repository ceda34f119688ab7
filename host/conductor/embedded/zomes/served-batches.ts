/**
 * resource_mesh's batches of direct requests: a window's leaves as a private entry (on this agent's
 * chain only) and its root as a public one citing it: a runner's with its count (`publicTotals`: no
 * tokens), a requester's with no figure at all (`SERVED_PUBLIC`: every member signs one on every slot,
 * so none pairs a requester with its runner). A request is found again on the chain
 * of the peers that took part in it (the runner's leaves, the requester's), never on a bystander's.
 */
import {
  type AnswerBatch,
  type AnswerLeaves,
  answerLeafBytes,
  type BatchRef,
  type EntryRecord,
  merklePaths,
  publicTotals,
  SERVED_PUBLIC,
  type ServedBatch,
  type ServedLeaves,
  type ServedRecord,
} from '../../../../zomes-bindings/index.ts'
import { decodeHashB64, encodeHashB64 } from '../../../identity/hash.ts'
import { WINDOW_CLOSED_END, windowClosedKey } from '../entry-keys.ts'
import type { Hdk } from '../hdk.ts'
import type { CoordinatorZome } from './coordinator-zome.ts'
import { liveEntryRecord, toEntryRecord, toRecordRef } from './entry-record.ts'

type BatchFns = Pick<
  CoordinatorZome<'resource_mesh'>,
  'post_answer_batch' | 'record_served_batch' | 'get_served' | 'get_answer_batch' | 'list_own_windows'
>

export const servedBatchFns: BatchFns = {
  post_answer_batch(hdk, { leaves, opened_at, closed_at }) {
    return writeWindow(hdk, 'AnswerLeaves', leaves, 'AnswerBatch', (entry) => ({
      root: leaves.root,
      leaves: entry,
      totals: publicTotals(leaves.totals),
      opened_at,
      closed_at,
    }))
  },

  record_served_batch(hdk, { leaves, opened_at, closed_at }) {
    return writeWindow(hdk, 'ServedLeaves', leaves, 'ServedBatch', (entry) => ({
      root: leaves.root,
      leaves: entry,
      ...SERVED_PUBLIC,
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

  list_own_windows(hdk, since) {
    return {
      answered: ownWindows<AnswerLeaves>(hdk, 'AnswerLeaves', 'AnswerBatch', since),
      served: ownWindows<ServedLeaves>(hdk, 'ServedLeaves', 'ServedBatch', since),
    }
  },
}

/**
 * This chain's windows of one kind closed from `since` on, oldest first: each batch with the leaves it
 * cites. The batches come from the entry-key index by their close, so a start reads what it keeps
 * (31 days of windows), never the whole chain.
 */
function ownWindows<T>(hdk: Hdk, leavesType: string, batchType: string, since: number) {
  return hdk.find_keyed_range(batchType, windowClosedKey(since), WINDOW_CLOSED_END).flatMap((record) => {
    const batch = hdk.entry_of<AnswerBatch | ServedBatch>(record)
    // The index is derived, outside the chain's checkpoint: what it points at is checked.
    if (batch === null || hdk.entry_type_of(record) !== batchType || batch.closed_at < since) return []
    // Private: only this agent's own leaves are held.
    const cited = hdk.get(decodeHashB64(batch.leaves, 'entry'))
    if (cited === null || hdk.entry_type_of(cited) !== leavesType) return []
    return [{ leaves: hdk.entry_of<T>(cited)!, opened_at: batch.opened_at, closed_at: batch.closed_at }]
  })
}

function writeWindow(
  hdk: Hdk,
  leavesType: string,
  leaves: unknown,
  batchType: string,
  batch: (leavesEntry: string) => unknown,
): BatchRef {
  // Both stamped when the call began: checking a window's real leaves takes longer than its cover,
  // and the public batch's time must not tell which it held (issue 55, point 11).
  hdk.hold_time()
  const entry = toRecordRef(hdk.get(hdk.create_entry(leavesType, leaves))!).entry_hash
  const action = hdk.create_entry(batchType, batch(entry))
  return { batch: encodeHashB64(action), leaves: entry }
}

/** The newest batch of `batchType` on this chain that cites `leavesEntry`. */
function batchCiting<T extends { leaves: string }>(
  hdk: Hdk,
  batchType: string,
  leavesEntry: string,
): EntryRecord<T> | null {
  const record = hdk.find_keyed(batchType, leavesEntry)
  const batch = record && toEntryRecord<T>(hdk, record)
  // The index is derived, outside the chain's checkpoint: what it points at is checked (as leaves are).
  return batch?.entry.leaves === leavesEntry ? batch : null
}

/** The newest leaves of `leavesType` on this chain that hold `request`, with their entry's hash. */
function leavesHolding<T>(hdk: Hdk, leavesType: string, request: string) {
  const record = hdk.find_keyed(leavesType, request)
  return record && { leaves: toEntryRecord<T>(hdk, record).entry, entry: toRecordRef(record).entry_hash }
}

function answeredHere(hdk: Hdk, request: string): ServedRecord['answered'] {
  const found = leavesHolding<AnswerLeaves>(hdk, 'AnswerLeaves', request)
  const index = found?.leaves.leaves.findIndex((l) => l.request === request) ?? -1
  const batch = found && index >= 0 ? batchCiting<AnswerBatch>(hdk, 'AnswerBatch', found.entry) : null
  if (found === null || batch === null) return null
  const leaves = found.leaves.leaves
  const path = merklePaths(leaves.map(answerLeafBytes))[index]!
  return {
    proof: { batch: batch.action_hash, leaf: leaves[index]!, index, count: leaves.length, path },
    batch,
  }
}

function servedHere(hdk: Hdk, request: string): ServedRecord['served'] {
  const found = leavesHolding<ServedLeaves>(hdk, 'ServedLeaves', request)
  const leaf = found?.leaves.leaves.find((l) => l.request === request)
  const batch = found && leaf ? batchCiting<ServedBatch>(hdk, 'ServedBatch', found.entry) : null
  if (!leaf || batch === null) return null
  const runnerBatch =
    leaf.proof === null
      ? null
      : liveEntryRecord<AnswerBatch>(hdk, decodeHashB64(leaf.proof.batch, 'action'), 'AnswerBatch')
  return { leaf, batch, runner_batch: runnerBatch }
}
