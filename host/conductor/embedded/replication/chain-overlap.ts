/**
 * The chains two peers compare heads of when records are sharded (issue 57): those both keep as chains
 * (op-placement.ts), each being the chain's author or one of its agent-activity holders. Every other
 * chain of the one is no chain of the other, and what they both hold of it (genesis, everywhere and
 * basis ops) is compared by summaries (neighbourhood-sync.ts). Pure.
 */
import { encodeHashB64 } from '../../../identity/hash.ts'
import { activityBasis } from './op-basis.ts'
import { closestMembers, placeMembers, placeOfBasis } from './op-holders.ts'

/** Whether `self` and `peer` (HoloHashB64) both keep the chain of an author, over `members` and R. */
export function chainsKeptByBoth(
  members: readonly string[],
  r: number,
  self: string,
  peer: string,
): (author: Uint8Array) => boolean {
  const placed = placeMembers(members)
  return (author) => {
    const agent = encodeHashB64(author)
    const holders = closestMembers(placeOfBasis(activityBasis(author)), placed, r)
    return (agent === self || holders.includes(self)) && (agent === peer || holders.includes(peer))
  }
}
