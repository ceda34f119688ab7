/**
 * Which records a batch of stored ops is about, and through which link type, so a listener (the
 * scheduler) wakes only the work they concern instead of re-reading everything: a link from a record
 * is about that record (a task's claims, assignments, results, receipt), and a link from an anchor or
 * path entry is about its target (a task opened on the open-tasks anchor). Links from agents add
 * nothing.
 */
import { contract, type DnaName } from '../../../../zomes-bindings/index.ts'
import { encodeHashB64, holoHashKind } from '../../../identity/hash.ts'
import type { RecordAbout } from '../../../interface/network-port.ts'
import type { StoredAction } from '../../../storage/chain-store.ts'
import { decodeAction } from '../action.ts'
import { ActionTypes } from '../hc-enums.ts'

export function recordsAbout(dna: DnaName, actions: readonly StoredAction[]): RecordAbout[] {
  const linkTypes: readonly string[] = contract[dna].linkTypes
  const about: RecordAbout[] = []
  for (const stored of actions) {
    if (stored.type !== ActionTypes.CreateLink) continue
    const action = decodeAction(stored.bytes)
    if (action.type !== ActionTypes.CreateLink) continue
    const link = linkTypes[action.link_type] ?? String(action.link_type)
    const base = holoHashKind(action.base_address)
    if (base === 'action') about.push({ record: encodeHashB64(action.base_address), link })
    else if (base === 'entry' && holoHashKind(action.target_address) === 'action')
      about.push({ record: encodeHashB64(action.target_address), link })
  }
  return about
}
