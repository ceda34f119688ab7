/**
 * Members' listen addresses as each tells them in its heartbeats (signed by its agent key, heard by
 * every peer at the idle pace), so a peer dials a holder or runner its peer store has lost (libp2p
 * keeps an address about an hour after it last saw the peer) without walking the directory first
 * (member-dial.ts). A member's list replaces its last one whole; one that fails a check is refused
 * with the reason and the last good list kept. At most one list per member, `MEMBERS_KEPT` in all.
 */
import type { PeerId } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { MEMBER_ADDRS, MemberAddrsSchema } from '../../zomes-bindings/index.ts'
import { isPublicAddress } from './public-address.ts'

/** Many times a mesh's members; past it the least recently told is dropped. */
export const MEMBERS_KEPT = 16_384

const P2P = 'p2p'
const CIRCUIT = 'p2p-circuit'

/** Whether an address goes to the public internet first (told first: what a far peer can dial). */
function isPublic(address: Multiaddr): boolean {
  const first = address.getComponents()[0]
  if (first === undefined) return false
  if (first.name.startsWith('dns')) return true
  return (first.name === 'ip4' || first.name === 'ip6') && isPublicAddress(first.value ?? '')
}

/**
 * What this peer tells of itself: its addresses as libp2p advertises them, its own trailing `/p2p/`
 * id left off (the heartbeat's signer names it), public ones first, those that fit the contract.
 */
export function addrsToTell(addresses: readonly Multiaddr[], self: PeerId): string[] {
  const own = addresses.map((address) => {
    const last = address.getComponents().at(-1)
    return last?.name === P2P && last.value === self.toString() ? address.decapsulateCode(last.code) : address
  })
  const ordered = [...own.filter(isPublic), ...own.filter((a) => !isPublic(a))].map(String)
  return [...new Set(ordered)].filter((a) => a.length <= MEMBER_ADDRS.length).slice(0, MEMBER_ADDRS.max)
}

/**
 * `told` read as `peer`'s addresses, or why it cannot be: beyond the contract's bounds, not a
 * multiaddr, or one that would dial another peer (a `/p2p/` id after the last relay hop that is not
 * `peer`'s; a relay's own id before `/p2p-circuit` is how a relayed address reads).
 */
export function readAddrs(peer: PeerId, told: unknown): Multiaddr[] | string {
  const bounded = MemberAddrsSchema.safeParse(told)
  if (!bounded.success) {
    const issue = bounded.error.issues[0]
    return `addresses out of bounds (${issue?.path.join('.') || 'list'}: ${issue?.message})`
  }
  const addresses: Multiaddr[] = []
  for (const text of bounded.data) {
    let address: Multiaddr
    try {
      address = multiaddr(text)
    } catch (err) {
      return `not a multiaddr: ${JSON.stringify(text)} (${(err as Error).message})`
    }
    const components = address.getComponents()
    const target = components.slice(components.findLastIndex((c) => c.name === CIRCUIT) + 1)
    const other = target.find((c) => c.name === P2P && c.value !== peer.toString())
    if (other !== undefined) return `${JSON.stringify(text)} dials another peer (${other.value})`
    addresses.push(address)
  }
  return addresses
}

export class MemberAddresses {
  readonly #self: PeerId
  readonly #listening: () => Multiaddr[]
  readonly #told = new Map<string, Multiaddr[]>()

  constructor(self: PeerId, listening: () => Multiaddr[]) {
    this.#self = self
    this.#listening = listening
  }

  /** What this peer's heartbeats tell (addrsToTell). */
  own(): string[] {
    return addrsToTell(this.#listening(), this.#self)
  }

  /** Keeps what `peer` told of its addresses; the reason when refused (its last good list is kept). */
  heard(peer: PeerId, told: unknown): string | null {
    const addresses = readAddrs(peer, told)
    if (typeof addresses === 'string') return addresses
    const key = peer.toString()
    this.#told.delete(key)
    if (this.#told.size >= MEMBERS_KEPT) this.#told.delete(this.#told.keys().next().value as string)
    this.#told.set(key, addresses)
    return null
  }

  /** The addresses `peer` last told (none: never heard, or refused every time). */
  of(peer: PeerId): Multiaddr[] {
    return this.#told.get(peer.toString()) ?? []
  }
}
