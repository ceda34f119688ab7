/**
 * resource_mesh's task payloads: a task's input and output as its requester and its assignee keep them,
 * private entries on their own chains (the mesh holds the Task's and the Result's hashes of them only).
 */
import type { TaskPayload } from '../../../../zomes-bindings/index.ts'
import { toRecordRef } from './entry-record.ts'
import type { CoordinatorZome } from './index.ts'

/** How many payloads back `get_payload` looks on this agent's chain. */
const LOOKBACK_PAYLOADS = 4096

export const taskPayloadFns: Pick<CoordinatorZome<'resource_mesh'>, 'keep_payload' | 'get_payload'> = {
  keep_payload(hdk, payload) {
    return toRecordRef(hdk.get(hdk.create_entry('TaskPayload', payload))!)
  },

  get_payload(hdk, hash) {
    for (const record of hdk.query('TaskPayload', LOOKBACK_PAYLOADS)) {
      const payload = hdk.entry_of<TaskPayload>(record)
      if (payload?.hash === hash) return payload
    }
    return null
  },
}
