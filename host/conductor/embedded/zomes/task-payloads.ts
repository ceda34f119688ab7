/**
 * resource_mesh's task payloads: a task's input and output as its requester and its assignee keep them,
 * private entries on their own chains (the mesh holds the Task's and the Result's hashes of them only).
 */
import type { TaskPayload } from '../../../../zomes-bindings/index.ts'
import type { CoordinatorZome } from './coordinator-zome.ts'
import { toRecordRef } from './entry-record.ts'

export const taskPayloadFns: Pick<CoordinatorZome<'resource_mesh'>, 'keep_payload' | 'get_payload'> = {
  keep_payload(hdk, payload) {
    return toRecordRef(hdk.get(hdk.create_entry('TaskPayload', payload))!)
  },

  get_payload(hdk, hash) {
    const record = hdk.find_keyed('TaskPayload', hash)
    const payload = record && hdk.entry_of<TaskPayload>(record)
    // The index is derived, outside the chain's checkpoint: what it points at is checked.
    return payload?.hash === hash ? payload : null
  },
}
