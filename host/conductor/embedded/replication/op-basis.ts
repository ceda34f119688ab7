/**
 * The bases an op is held at (issue 57), the one place every caller (placement, gets from holders,
 * reads, hand-off) takes them from. Every op is held at its own action hash, so a get by action hash
 * (holder-get.ts) finds any op at the holders of the hash it has; besides that, where Holochain's
 * authorities would look for it: a link (CreateLink, DeleteLink) at its base, so get_links on a base
 * sees its links and their deletions at one neighbourhood; an Update at its original and a Delete at
 * the record it deletes, so the holders of a record know what replaced or removed it. A chain's
 * continuity is checked at its author's key (agent activity): `activityBasis`.
 */
import type { Action } from '@holochain/client'
import { ActionTypes } from '../hc-enums.ts'

/** The bases of the op of `action` (whose hash is `hash`), its own hash first. */
export function opBases(action: Action, hash: Uint8Array): Uint8Array[] {
  switch (action.type) {
    case ActionTypes.CreateLink:
    case ActionTypes.DeleteLink:
      return [hash, action.base_address]
    case ActionTypes.Update:
      return [hash, action.original_action_address]
    case ActionTypes.Delete:
      return [hash, action.deletes_address]
    default:
      return [hash]
  }
}

/** The basis of a get by action hash: the holders of the hash hold the op, whatever it is. */
export function getBasis(actionHash: Uint8Array): Uint8Array {
  return actionHash
}

/** The basis of an author's activity (its chain, kept contiguous by the holders of its key). */
export function activityBasis(author: Uint8Array): Uint8Array {
  return author
}
