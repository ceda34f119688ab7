/**
 * Peer exchange: how peers find peers beyond their bootstrap nodes. Every verified peer answers
 * `peers/1.0.0` with the other verified peers it is connected to and their addresses (relayed ones
 * included, which is how two peers behind NAT find a way to each other), and asks each peer it
 * verifies, then every `intervalMs` a few of them at random, dialling the ones it is not connected to.
 * (Asking every peer every round cost each of n peers n answers of n entries a round: the largest
 * share of an idle peer's work that grew with the mesh.)
 *
 * A peer dials the peers it learns of only while it has fewer neighbours (verified peers it dialled
 * itself) than its target (connection-budget.ts): a mesh of up to about eight is (nearly) fully
 * connected, a larger one is not. Its kept neighbours (the first `neighbours` of them) are tagged
 * keep-alive in the peer store: libp2p redials them when a connection drops (a relay's limit cut it,
 * say) and, with the store kept in the data dir, at the next start; it drops the tag itself once its
 * redials fail, and this peer drops it when the neighbour comes back after its place was taken. Other connections (peers that dialled this one,
 * runners dialled for a request) are left to the connection trimmer.
 */
import { KEEP_ALIVE, type Libp2p, type PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import { parseWireJson } from '../interface/nesting-depth.ts'
import { type ConnectionBudget, connectionBudget, wantsNeighbours } from './connection-budget.ts'
import type { PeerBook } from './peer-book.ts'
import type { RequestResponse } from './request-response.ts'

export const PEER_EXCHANGE_PROTOCOL_SUFFIX = 'peers/1.0.0'
/** Most peers one answer names; a new peer learns the rest from those. */
const MAX_PEERS = 64
const MAX_ADDRS = 16
/** Peers asked a round: what one knows, the others learn within a few rounds. */
const ASKED_PER_ROUND = 2
/** How long a peer stays remembered (and redialled at start) after it was last verified. */
const KEEP_ALIVE_TTL_MS = 7 * 24 * 3600_000

const PeerListSchema = z.object({
  peers: z
    .array(z.object({ id: z.string().max(128), addrs: z.array(z.string().max(512)).max(MAX_ADDRS) }))
    .max(MAX_PEERS),
})
export type PeerList = z.infer<typeof PeerListSchema>

export interface PeerExchangeInit {
  libp2p: Libp2p
  peers: PeerBook
  rpc: RequestResponse
  /** How often connected peers are asked again; default 10 s. */
  intervalMs?: number
  /** How many peers this one dials for itself; connectionBudget()'s by default. */
  budget?: ConnectionBudget
  /** Whether a peer is an explicit one (peer-dialer.ts keeps it or lets it go; no neighbour). Default: none. */
  isExplicit?: (peer: PeerId) => boolean
}

export interface PeerExchange {
  /** The neighbours this peer has: verified peers it dialled itself, explicit ones aside. */
  neighbours(): number
  stop(): Promise<void>
}

/**
 * What this peer tells `asker`: its other verified peers with the addresses it knows for them, in a
 * random order. (In the order they connected, every newcomer dialled the same oldest peers first, and
 * those held a connection to most of the mesh.)
 */
export async function peerListFor(libp2p: Libp2p, peers: PeerId[], asker: PeerId): Promise<PeerList> {
  const entries = await Promise.all(
    sample(
      peers.filter((peer) => !peer.equals(asker)),
      MAX_PEERS,
    ).map(async (peer) => {
      const stored = await libp2p.peerStore.get(peer).catch(() => undefined)
      const addrs = (stored?.addresses ?? []).map((a) => a.multiaddr.toString()).slice(0, MAX_ADDRS)
      return { id: peer.toString(), addrs }
    }),
  )
  return { peers: entries.filter((entry) => entry.addrs.length > 0) }
}

export const encodePeerList = (list: PeerList): Uint8Array => new TextEncoder().encode(JSON.stringify(list))

export function decodePeerList(bytes: Uint8Array): PeerList {
  return PeerListSchema.parse(parseWireJson(new TextDecoder().decode(bytes), 'a peer list'))
}

/** Answers peer exchange requests (peers and `ripple relay` nodes alike). */
export function servePeerExchange(libp2p: Libp2p, peers: PeerBook, rpc: RequestResponse): Promise<void> {
  // Open to the network: a newcomer meets the mesh this way before its genesis (its membership) has
  // reached anyone, and a relay serves it to peers it is no member with. It tells addresses, no work.
  return rpc.handle(
    PEER_EXCHANGE_PROTOCOL_SUFFIX,
    async (_request, asker) => encodePeerList(await peerListFor(libp2p, peers.list(), asker)),
    { openToNetwork: true, use: 'upkeep' },
  )
}

export async function startPeerExchange(init: PeerExchangeInit): Promise<PeerExchange> {
  const { libp2p, peers, rpc } = init
  const budget = init.budget ?? connectionBudget()
  const kept = new Set<string>()
  const isExplicit = init.isExplicit ?? (() => false)
  // A neighbour is a peer this one dialled: those that dialled it are theirs. Counting them too, a peer
  // many dial (a mesh's inviter) wanted none of its own, and was left with none once they let it go.
  const isNeighbour = (peer: PeerId) =>
    !isExplicit(peer) && libp2p.getConnections(peer).some((c) => c.direction === 'outbound')
  const neighbours = () => peers.list().filter(isNeighbour).length
  // Dials in flight count: ten answers at once must not each fill the last free place.
  const wanted = () => wantsNeighbours(neighbours() + dialling.size, budget)
  const log = libp2p.logger.forComponent('ripple:peer-exchange')
  const controller = new AbortController()
  const { signal } = controller
  const dialling = new Set<string>()
  const self = libp2p.peerId
  // Peer store writes still running when the node stops would land in a data dir being removed.
  const pending = new Set<Promise<unknown>>()
  const track = (work: Promise<unknown>) => {
    pending.add(work)
    const done = () => pending.delete(work)
    work.then(done, done)
  }

  await servePeerExchange(libp2p, peers, rpc)

  const dial = (id: PeerId, addrs: string[]) => {
    const key = id.toString()
    if (
      signal.aborted ||
      id.equals(self) ||
      dialling.has(key) ||
      peers.has(id) ||
      isExplicit(id) ||
      !wanted()
    )
      return
    if (libp2p.getConnections(id).length > 0) return
    dialling.add(key)
    // Kept in the peer store, so libp2p picks among them (relayed ones last) and remembers them.
    const merged = libp2p.peerStore.merge(id, { multiaddrs: addrs.map((a) => multiaddr(a)) })
    track(merged)
    merged
      .then(() => libp2p.dial(id, { signal }))
      .catch((err: Error) => log('dial of exchanged %p failed - %e', id, err))
      .finally(() => dialling.delete(key))
  }

  const ask = async (peer: PeerId) => {
    try {
      const answer = decodePeerList(
        await rpc.request(peer, PEER_EXCHANGE_PROTOCOL_SUFFIX, new Uint8Array(), {
          signal,
          openToNetwork: true,
        }),
      )
      for (const entry of answer.peers) {
        // A malformed id or address from a peer is its problem, not a reason to stop.
        try {
          dial(peerIdFromString(entry.id), entry.addrs)
        } catch (err) {
          log('ignored exchanged peer %s - %e', entry.id, err)
        }
      }
    } catch (err) {
      log('peer exchange with %p failed - %e', peer, err)
    }
  }

  const onConnect = (evt: CustomEvent<PeerId>) => {
    const peer = evt.detail
    // An explicit peer is the dialer's to keep or let go.
    if (isExplicit(peer)) {
      if (wanted()) void ask(peer)
      return
    }
    if (isNeighbour(peer) && kept.size < budget.neighbours) {
      kept.add(peer.toString())
      track(
        libp2p.peerStore
          .merge(peer, { tags: { [KEEP_ALIVE]: { value: 1, ttl: KEEP_ALIVE_TTL_MS } } })
          .catch((err: Error) => log('could not tag %p keep-alive - %e', peer, err)),
      )
    } else if (!kept.has(peer.toString())) {
      // A former neighbour whose place was taken while libp2p redialled it: no longer kept, or every
      // peer that ever dropped would stay tagged and redialled, and the kept set would grow with churn.
      track(
        libp2p.peerStore
          .get(peer)
          .then((stored) =>
            stored.tags.has(KEEP_ALIVE)
              ? libp2p.peerStore.merge(peer, { tags: { [KEEP_ALIVE]: undefined } })
              : undefined,
          )
          .catch((err: Error) => log('could not untag %p - %e', peer, err)),
      )
    }
    if (wanted()) void ask(peer)
  }
  // Its place goes to the next peer verified; its tag stays while libp2p redials it. A peer left with
  // no peer at all (an inviter every joiner let go) dials back the last to leave: it has nobody else
  // to ask for peers.
  const onDisconnect = (evt: CustomEvent<PeerId>) => {
    kept.delete(evt.detail.toString())
    if (peers.list().length === 0 && wanted()) dial(evt.detail, [])
  }
  peers.addEventListener('peer:connect', onConnect)
  peers.addEventListener('peer:disconnect', onDisconnect)
  const timer = setInterval(() => {
    if (!wanted()) return
    for (const peer of sample(peers.list(), ASKED_PER_ROUND)) void ask(peer)
  }, init.intervalMs ?? 10_000)

  return {
    neighbours,
    async stop() {
      controller.abort()
      clearInterval(timer)
      peers.removeEventListener('peer:connect', onConnect)
      peers.removeEventListener('peer:disconnect', onDisconnect)
      await rpc.unhandle(PEER_EXCHANGE_PROTOCOL_SUFFIX)
      await Promise.allSettled([...pending])
    },
  }
}

/** Up to `count` of `items`, picked at random. */
function sample<T>(items: readonly T[], count: number): T[] {
  const pool = [...items]
  for (let i = 0; i < Math.min(count, pool.length); i++) {
    const j = i + Math.floor(Math.random() * (pool.length - i))
    ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
  }
  return pool.slice(0, count)
}
