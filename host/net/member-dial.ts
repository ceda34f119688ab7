/**
 * Dials a member by id. In a mesh too large for every peer to be connected to every other, a peer
 * often has no address of the member it must reach (a holder it never met, a runner it knows by its
 * heartbeats) or a stale one: libp2p's peer store keeps what it saw for about an hour. The member's
 * heartbeats tell its addresses (member-addresses.ts), so those are dialled next, and only when they
 * fail or none was heard does the directory's Kademlia find the peer (O(log N) hops, `walk`).
 */
import type { AbortOptions, Connection, Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Finds `peer`'s addresses and stores them; whether any were found. */
export type LocatePeer = (peer: PeerId, options: Required<AbortOptions>) => Promise<boolean>

/** Where a member's addresses come from besides the peer store. */
export interface FindMember {
  /** What the member last told of its addresses (member-addresses.ts). */
  told?: (peer: PeerId) => readonly Multiaddr[]
  /** The directory walk. */
  locate?: LocatePeer
  /** Where the ways tried are counted (`ripple_net_member_dials_total`). */
  counts?: DialCounts
}

/** A node's way to find members: what they told, the walk, and the ways tried counted from zero. */
export function memberFinder(told: FindMember['told'], locate: LocatePeer) {
  return { told, locate, counts: { stored: 0, told: 0, walk: 0 } satisfies DialCounts }
}

/** One way to reach a member: the peer store's addresses, those it told, a directory walk. */
export type DialStep = 'stored' | 'told' | 'walk'
/** How often each way was tried (a walk tried is a directory lookup made). */
export type DialCounts = Record<DialStep, number>

/**
 * The ways tried, in order: the peer store first (libp2p's dial, which also returns a connection
 * already open, and gives its own error when nothing else is left), then the addresses the member
 * told where they add one to what that dial tried, then the walk. Two dials at once each follow their
 * own plan (libp2p joins their dials), so one does not skip what the other merged.
 */
export function dialPlan(known: {
  connected: boolean
  stored: readonly string[]
  told: readonly string[]
  canWalk: boolean
}): DialStep[] {
  const stored = new Set(known.stored)
  const steps: DialStep[] = []
  if (known.connected || known.stored.length > 0) steps.push('stored')
  if (known.told.some((address) => !stored.has(address))) steps.push('told')
  if (known.canWalk) steps.push('walk')
  return steps.length > 0 ? steps : ['stored']
}

async function storedAddrs(libp2p: Libp2p, peer: PeerId): Promise<string[]> {
  const stored = await libp2p.peerStore.get(peer).catch(() => undefined)
  return (stored?.addresses ?? []).map((address) => address.multiaddr.toString())
}

export async function dialMember(
  libp2p: Libp2p,
  peer: PeerId,
  signal: AbortSignal | undefined,
  find: FindMember = {},
): Promise<Connection> {
  const told = find.told?.(peer) ?? []
  const plan = dialPlan({
    connected: libp2p.getConnections(peer).length > 0,
    stored: await storedAddrs(libp2p, peer),
    told: told.map(String),
    canWalk: find.locate !== undefined,
  })
  let failure: unknown
  for (const step of plan) {
    if (signal?.aborted) break
    if (find.counts) find.counts[step]++
    if (step === 'told') await libp2p.peerStore.merge(peer, { multiaddrs: [...told] }).catch(() => {})
    const options = { signal: signal ?? AbortSignal.timeout(10_000) }
    if (step === 'walk' && !(await find.locate?.(peer, options).catch(() => false))) continue
    try {
      return await libp2p.dial(peer, { signal })
    } catch (err) {
      failure ??= err
    }
  }
  throw failure ?? signal?.reason ?? new Error(`no address of ${peer} reached`)
}
