/**
 * Which records a batch of stored ops is about, so a listener (the scheduler) wakes only the work
 * they concern instead of re-reading everything: a link from a record is about that record (a
 * task's claims, assignments, results, receipt), and a link from an anchor or path entry is about
 * its target (a task opened on the open-tasks anchor). Links from agents (an agent's assignments)
 * add nothing: the same write links its record from the task too.
 */
import type { StoredAction } from '../../../storage/chain-store.ts'
import { decodeAction } from '../action.ts'
import { encodeHashB64, holoHashKind } from '../hash.ts'
import { ActionTypes } from '../hc-enums.ts'

/** HoloHashB64 action hashes the ops' links are about, each once. */
export function recordsAbout(actions: readonly StoredAction[]): string[] {
  const about = new Set<string>()
  for (const stored of actions) {
    if (stored.type !== ActionTypes.CreateLink) continue
    const action = decodeAction(stored.bytes)
    if (action.type !== ActionTypes.CreateLink) continue
    const base = holoHashKind(action.base_address)
    if (base === 'action') about.add(encodeHashB64(action.base_address))
    else if (base === 'entry' && holoHashKind(action.target_address) === 'action')
      about.add(encodeHashB64(action.target_address))
  }
  return [...about]
}
