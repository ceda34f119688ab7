/**
 * resource_mesh coordinator: the life of a task as links from the task to every record about it
 * (claims, assignments, results, receipt, cancellation), an anchor of open tasks, and agent ->
 * assignments; a task's input and output kept private by its two parties (task-payloads.ts); requests
 * routed straight to a runner in batches (served-batches.ts). The rules decide who may write what (only the task's author assigns, issues receipts
 * and cancels; only the assignee posts a result); readers still check what each link leads to, since
 * anyone may write a link, and derive the status from the records and the current time.
 */
import {
  type ActionHashB64,
  type Assignment,
  type Cancellation,
  type Claim,
  deriveTaskStatus,
  type EntryRecord,
  type Receipt,
  type Task,
  type TaskResult,
} from '../../../../zomes-bindings/index.ts'
import { decodeHashB64, encodeHashB64, hashesEqual } from '../../../identity/hash.ts'
import { nowMicros } from '../../../runtime/clock.ts'
import type { Hdk } from '../hdk.ts'
import type { CoordinatorZome } from './coordinator-zome.ts'
import { liveEntryRecord, toRecordRef } from './entry-record.ts'
import { servedBatchFns } from './served-batches.ts'
import { taskPayloadFns } from './task-payloads.ts'

const OPEN_TASKS = 'open_tasks'

type LinkType =
  | 'TaskToClaims'
  | 'TaskToAssignments'
  | 'TaskToResults'
  | 'TaskToReceipt'
  | 'TaskToCancellation'

export const resourceMeshZome: CoordinatorZome<'resource_mesh'> = {
  submit_task(hdk, task) {
    const hash = hdk.create_entry('Task', task)
    // Tagged with the task, so closing it finds its link without reading every open task's.
    hdk.create_link(hdk.anchor(OPEN_TASKS), hash, 'OpenTasks', hash)
    return toRecordRef(hdk.get(hash)!)
  },

  claim_task(hdk, claim) {
    return writeAbout(hdk, 'Claim', claim, 'TaskToClaims')
  },

  assign_task(hdk, assignment) {
    return writeAbout(hdk, 'Assignment', assignment, 'TaskToAssignments')
  },

  post_result(hdk, result) {
    return writeAbout(hdk, 'Result', result, 'TaskToResults')
  },

  issue_receipt(hdk, receipt) {
    const ref = writeAbout(hdk, 'Receipt', receipt, 'TaskToReceipt')
    closeTask(hdk, receipt.task)
    return ref
  },

  cancel_task(hdk, cancellation) {
    const ref = writeAbout(hdk, 'Cancellation', cancellation, 'TaskToCancellation')
    closeTask(hdk, cancellation.task)
    return ref
  },

  list_open_tasks(hdk) {
    const now = nowMicros()
    const seen = new Set<string>()
    const open: EntryRecord<Task>[] = []
    for (const link of hdk.get_links(hdk.anchor(OPEN_TASKS), 'OpenTasks')) {
      const task = liveEntryRecord<Task>(hdk, link.target, 'Task')
      // Only the task's author opens it; a link by anyone else is noise.
      if (task === null || task.author !== encodeHashB64(link.author) || seen.has(task.action_hash)) continue
      seen.add(task.action_hash)
      // Cheaper than the whole state: what ends a task without more records is the deadline.
      if (task.entry.deadline < now) continue
      if (byTaskAuthor(hdk, task, 'TaskToReceipt', 'Receipt').length > 0) continue
      if (byTaskAuthor(hdk, task, 'TaskToCancellation', 'Cancellation').length > 0) continue
      open.push(task)
    }
    return open
  },

  list_tasks(hdk, { limit }) {
    // The open anchor's links, deleted ones too (a finished task's link is deleted, not gone).
    const links = hdk.get_links(hdk.anchor(OPEN_TASKS), 'OpenTasks', { include_deleted: true })
    const seen = new Set<string>()
    const tasks: EntryRecord<Task>[] = []
    for (const link of links.reverse()) {
      if (tasks.length >= limit) break
      const task = liveEntryRecord<Task>(hdk, link.target, 'Task')
      if (task === null || task.author !== encodeHashB64(link.author) || seen.has(task.action_hash)) continue
      seen.add(task.action_hash)
      tasks.push(task)
    }
    return tasks
  },

  get_task_state(hdk, taskHash) {
    const task = liveEntryRecord<Task>(hdk, decodeHashB64(taskHash, 'action'), 'Task')
    if (task === null) return null
    const claims = about<Claim>(hdk, task, 'TaskToClaims', 'Claim')
    const assignments = byTaskAuthor<Assignment>(hdk, task, 'TaskToAssignments', 'Assignment').sort(
      (a, b) => a.entry.attempt - b.entry.attempt || a.timestamp - b.timestamp,
    )
    // The rules let only an assignment's assignee post a result for it.
    const results = about<TaskResult>(hdk, task, 'TaskToResults', 'Result').filter((r) =>
      assignments.some((a) => a.action_hash === r.entry.assignment),
    )
    const receipt = byTaskAuthor<Receipt>(hdk, task, 'TaskToReceipt', 'Receipt')[0] ?? null
    const cancellation =
      byTaskAuthor<Cancellation>(hdk, task, 'TaskToCancellation', 'Cancellation')[0] ?? null
    const state = { task, claims, assignments, results, receipt, cancellation }
    return { ...state, status: deriveTaskStatus(state, nowMicros()) }
  },

  ...servedBatchFns,
  ...taskPayloadFns,
}

/** Writes an entry about `entry.task` and links the task to it. */
function writeAbout(
  hdk: Hdk,
  entryType: string,
  entry: { task: ActionHashB64 },
  linkType: LinkType,
): ReturnType<typeof toRecordRef> {
  const hash = hdk.create_entry(entryType, entry)
  hdk.create_link(decodeHashB64(entry.task, 'action'), hash, linkType)
  return toRecordRef(hdk.get(hash)!)
}

/** The author takes its task off the open anchor once it is finished. */
function closeTask(hdk: Hdk, task: ActionHashB64): void {
  const taskHash = decodeHashB64(task, 'action')
  const me = hdk.agent_info().agent_initial_pubkey
  const anchor = hdk.anchor(OPEN_TASKS)
  const tagged = hdk.get_links(anchor, 'OpenTasks', { tag_prefix: taskHash })
  // A task opened before links were tagged has an untagged link: found among all of them.
  const links = tagged.length > 0 ? tagged : hdk.get_links(anchor, 'OpenTasks')
  for (const link of links) {
    if (hashesEqual(link.target, taskHash) && hashesEqual(link.author, me))
      hdk.delete_link(link.create_link_hash)
  }
}

/** Live `entryType` records linked from the task that are about this task, each once, oldest first. */
function about<T extends { task: string }>(
  hdk: Hdk,
  task: EntryRecord<Task>,
  linkType: LinkType,
  entryType: string,
): EntryRecord<T>[] {
  const seen = new Set<string>()
  const records: EntryRecord<T>[] = []
  for (const link of hdk.get_links(decodeHashB64(task.action_hash, 'action'), linkType)) {
    const record = liveEntryRecord<T>(hdk, link.target, entryType)
    if (record === null || record.entry.task !== task.action_hash || seen.has(record.action_hash)) continue
    seen.add(record.action_hash)
    records.push(record)
  }
  return records.sort((a, b) => a.timestamp - b.timestamp)
}

/** Like `about`, keeping only records the task's author wrote (the rules refuse others anyway). */
function byTaskAuthor<T extends { task: string }>(
  hdk: Hdk,
  task: EntryRecord<Task>,
  linkType: LinkType,
  entryType: string,
): EntryRecord<T>[] {
  return about<T>(hdk, task, linkType, entryType).filter((r) => r.author === task.author)
}
