/**
 * The chains two peers compare heads of when records are sharded (issue 57): those both keep as chains
 * (op-placement.ts), each being the chain's author or one of its agent-activity holders. Every other
 * chain of the one is no chain of the other, and what they both hold of it (genesis, everywhere and
 * basis ops) is compared by summaries (neighbourhood-sync.ts). Pure, but for what it remembers of
 * earlier answers (below): the same members, the same holders.
 */
import { encodeHashB64 } from '../../../identity/hash.ts'
import { activityBasis } from './op-basis.ts'
import { closestMembers, type Placed, placeMembers, placeOfBasis } from './op-holders.ts'

/** Whether `self` and `peer` (HoloHashB64) both keep the chain of an author, over `members` and R. */
export function chainsKeptByBoth(
  members: readonly string[],
  r: number,
  self: string,
  peer: string,
): (author: Uint8Array) => boolean {
  const over = holdersOver(members, r)
  return (author) => {
    const agent = encodeHashB64(author)
    let holders = over.activity.get(agent)
    if (holders === undefined) {
      holders = closestMembers(placeOfBasis(activityBasis(author)), over.placed, r)
      over.activity.set(agent, holders)
    }
    return (agent === self || holders.includes(self)) && (agent === peer || holders.includes(peer))
  }
}

/**
 * Each author's activity holders over one list of members and R, as they are found. Every exchange asks
 * them of every chain (anti-entropy's heads and ops, both sides), and each is a closest-member search
 * over all the members: N searches of N per exchange in a mesh of N. The placer reads the members
 * again every second, a new list of the same members: a list equal to one asked lately reuses its
 * holders. A few lists are kept (peers in one process, views during churn), the least recent dropped.
 */
interface Over {
  r: number
  placed: Placed[]
  activity: Map<string, string[]>
}

const overList = new WeakMap<readonly string[], Over>()
const overKey = new Map<string, Over>()
const LISTS_KEPT = 16

function holdersOver(members: readonly string[], r: number): Over {
  const same = overList.get(members)
  if (same?.r === r) return same
  const key = `${r}\n${members.join('\n')}`
  let over = overKey.get(key)
  if (over === undefined) {
    over = { r, placed: placeMembers(members), activity: new Map() }
    if (overKey.size >= LISTS_KEPT) overKey.delete(overKey.keys().next().value!)
  } else overKey.delete(key)
  overKey.set(key, over)
  overList.set(members, over)
  return over
}
