/**
 * Who holds an op (design 4e, issue 57): the R members closest to its basis hash, everyone when the
 * mesh has R members or fewer (a team's mesh keeps everything everywhere, as before). Closeness is
 * Kademlia's: the XOR of sha256 places, a member's place the sha256 of its peer id's multihash and a
 * basis's the sha256 of its bytes, as `@libp2p/kad-dht` computes them (utils.js `convertPeerId`,
 * `convertBuffer`), so a directory lookup of the basis and this plan name the same peers. Pure: the
 * replicator and the simulation both plan with it.
 */
import { createHash } from 'node:crypto'
import { peerIdOfAgent } from '../../../identity/peer-agent.ts'

/** A member (its AgentPubKey, HoloHashB64) and its place in the key space. */
export interface Placed {
  agent: string
  place: Uint8Array
}

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest())

/** The place of a basis hash (an action, entry or agent hash, its raw bytes). */
export function placeOfBasis(basis: Uint8Array): Uint8Array {
  return sha256(basis)
}

/** Places already derived, by agent: every op's plan walks all members. */
const places = new Map<string, Uint8Array>()
/** A mesh's members fit many times over; past it the map starts again rather than grow. */
const PLACES_KEPT = 4096

/** The place of a member: the sha256 of its peer id's multihash (its PeerId is its agent key). */
export function placeOfAgent(agent: string): Uint8Array {
  let place = places.get(agent)
  if (place === undefined) {
    place = sha256(peerIdOfAgent(agent).toMultihash().bytes)
    if (places.size >= PLACES_KEPT) places.clear()
    places.set(agent, place)
  }
  return place
}

/** `members` placed, each once. */
export function placeMembers(members: Iterable<string>): Placed[] {
  return [...new Set(members)].map((agent) => ({ agent, place: placeOfAgent(agent) }))
}

/** < 0 when `a` is closer to `target` than `b`; distinct places are never equally close under XOR. */
function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const d = (a[i]! ^ target[i]!) - (b[i]! ^ target[i]!)
    if (d !== 0) return d
  }
  return 0
}

/**
 * The `r` members closest to `target`, closest first (all of them when there are `r` or fewer).
 * Two members at the same place (only forged or repeated keys) go in agent-key order, so every peer
 * draws the same set whatever order its member list is in.
 */
export function closestMembers(target: Uint8Array, members: readonly Placed[], r: number): string[] {
  if (!Number.isInteger(r) || r < 1) throw new RangeError(`holders must be a positive integer, not ${r}`)
  const closer = (a: Placed, b: Placed) =>
    compareDistance(target, a.place, b.place) || (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0)
  // Insertion into the r best so far: r is small and the members many, so no full sort.
  const best: Placed[] = []
  for (const member of members) {
    if (best.length === r && closer(member, best[r - 1]!) >= 0) continue
    let i = Math.min(best.length, r - 1)
    if (best.length < r) best.push(member)
    while (i > 0 && closer(member, best[i - 1]!) < 0) {
      best[i] = best[i - 1]!
      i--
    }
    best[i] = member
  }
  return best.map((m) => m.agent)
}

/** The holders of the op whose basis is `basis`: the `r` members closest to it, closest first. */
export function opHolders(basis: Uint8Array, members: Iterable<string>, r: number): string[] {
  return closestMembers(placeOfBasis(basis), placeMembers(members), r)
}

/** True when `agent` is one of the holders of the op whose basis is `basis`. */
export function isOpHolder(agent: string, basis: Uint8Array, members: Iterable<string>, r: number): boolean {
  return opHolders(basis, members, r).includes(agent)
}
