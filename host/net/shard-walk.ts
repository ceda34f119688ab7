/**
 * Reading one shard key of the model directory: kad-dht's findProviders walk, cut short once
 * `holders` holders of the key have named runners (not the whole walk: kad-dht walks on to k providers,
 * asking about every peer of a small mesh). The directory reads one (SHARD_HOLDERS_READ). Two were
 * tried, since an advert sits with the peers closest to its key when it was made and a growing mesh
 * can leave one shard's adverts with different holders; in the simulation at 100 peers the looks took
 * longer and more requests found no runner (11 and 22% against 7%, find p50 7.2 and 12 s against
 * 6.3 s; likely: a peer holding the key itself walked the network for a second holder). Renewal
 * (every readvertise) brings adverts back to the key's current holders.
 */
import type { PeerId, PeerInfo } from '@libp2p/interface'
import { EventTypes, type QueryEvent } from '@libp2p/kad-dht'

/** Holders of a shard key whose answers the directory's read joins before it stops. */
export const SHARD_HOLDERS_READ = 1

export interface ShardWalk {
  /** The runners named, each once, this peer left out. */
  providers: PeerInfo[]
  /** Hops to the first holder that named runners (0: this peer holds the key). */
  hops: number
  /** Directory queries sent. */
  queries: number
  /** Why the walk ended early (an abort, a failed query stream); what it found before stays. */
  error: Error | null
}

export async function walkShard(
  events: AsyncIterable<QueryEvent>,
  self: PeerId,
  holders = SHARD_HOLDERS_READ,
): Promise<ShardWalk> {
  const walk: ShardWalk = { providers: [], hops: Number.POSITIVE_INFINITY, queries: 0, error: null }
  const depth = new Map<string, number>()
  const named = new Set<string>()
  const answered = new Set<string>()
  try {
    for await (const event of events) {
      if (event.type === EventTypes.SEND_QUERY) walk.queries++
      if (event.type === EventTypes.PEER_RESPONSE) {
        const next = (depth.get(event.from.toString()) ?? 1) + 1
        for (const peer of event.closer)
          if (!depth.has(peer.id.toString())) depth.set(peer.id.toString(), next)
      }
      if (event.type !== EventTypes.PROVIDER) continue
      const others = event.providers.filter((p) => !p.id.equals(self))
      if (others.length === 0) continue
      const from = event.from.equals(self) ? 0 : (depth.get(event.from.toString()) ?? 1)
      walk.hops = Math.min(walk.hops, from)
      for (const provider of others) {
        if (named.has(provider.id.toString())) continue
        named.add(provider.id.toString())
        walk.providers.push(provider)
      }
      answered.add(event.from.toString())
      if (answered.size >= holders) break
    }
  } catch (err) {
    walk.error = err as Error
  }
  return walk
}
