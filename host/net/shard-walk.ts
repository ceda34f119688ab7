/**
 * Reading one shard key of the model directory: kad-dht's findProviders walk, cut short once
 * SHARD_HOLDERS_READ holders have named runners. Not at the first: an advert sits with the peers
 * closest to its key when it was made, so while a mesh grows two runners of one shard, advertised at
 * different times, can sit with different holders, and one holder's answer named one runner of two
 * (the simulation's dead-runner probe: a requester whose one known runner died had no other to try).
 * Not the whole walk either: kad-dht walks on to k providers, asking about every peer of a small mesh.
 */
import type { PeerId, PeerInfo } from '@libp2p/interface'
import { EventTypes, type QueryEvent } from '@libp2p/kad-dht'

/** Holders of a shard key whose answers a read joins before it stops. */
export const SHARD_HOLDERS_READ = 2

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

export async function walkShard(events: AsyncIterable<QueryEvent>, self: PeerId): Promise<ShardWalk> {
  const walk: ShardWalk = { providers: [], hops: Number.POSITIVE_INFINITY, queries: 0, error: null }
  const depth = new Map<string, number>()
  const named = new Set<string>()
  const holders = new Set<string>()
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
      holders.add(event.from.toString())
      if (holders.size >= SHARD_HOLDERS_READ) break
    }
  } catch (err) {
    walk.error = err as Error
  }
  return walk
}
