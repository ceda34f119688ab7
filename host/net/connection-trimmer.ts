/**
 * Closes the connections a peer dialled for itself and no longer uses (connection-budget.ts's
 * `peersToTrim`): every `intervalMs` it hangs up on the peers named. Closing every connection to a peer
 * (never one of two) lets gossipsub see the peer leave, as on any disconnect. In a mesh of five every
 * peer is a kept neighbour, so nothing is closed there.
 */
import type { Connection, Libp2p } from '@libp2p/interface'
import {
  type ConnectionBudget,
  decidesOn,
  type HeldPeer,
  peersToTrim,
  type TrimTimes,
} from './connection-budget.ts'
import { EXPLICIT_PEER_TAG, RELEASED_PEER_TAG } from './peer-dialer.ts'
import type { StoppableRequestResponse } from './request-response.ts'

/**
 * Peer store tags that keep a connection: a kept neighbour or explicit peer (keep-alive, peer-dialer's),
 * a relay this peer reserved with (`keep-alive-circuit-relay`), a peer holding a reservation here. Not
 * kad-dht's `kad-peer`: its routing table needs no open connection.
 */
const KEEPING_TAGS = [/^keep-alive/, /^circuit-relay-source$/, new RegExp(`^${EXPLICIT_PEER_TAG}$`)]
/** Streams every member connection carries at rest: an open one of these is no work in progress. */
const IDLE_PROTOCOLS = [/^\/meshsub\//, /^\/floodsub\//, /^\/ipfs\/id\//, /^\/ipfs\/ping\//]

export interface ConnectionTrimmerInit {
  budget: ConnectionBudget
  /** Request-response: when each peer was last of use, and which open streams are its idle ones. */
  rpc: Pick<StoppableRequestResponse, 'lastActiveAt' | 'asked' | 'carries'>
  /**
   * Divides its timings: looked at every 5 s, 5 s of grace (then closed, if never asked), closed
   * after 60 s unused. Default 1.
   */
  speedup?: number
}

export interface ConnectionTrimmer {
  stop(): void
}

export function startConnectionTrimmer(libp2p: Libp2p, init: ConnectionTrimmerInit): ConnectionTrimmer {
  const { budget, rpc } = init
  // Streams of work (a directory query, an answer streaming); request-response's are kept open for reuse.
  const busy = (connection: Connection) =>
    connection.streams.some(
      (s) =>
        s.protocol !== undefined &&
        !rpc.carries(s.protocol) &&
        !IDLE_PROTOCOLS.some((p) => p.test(s.protocol!)),
    )
  const speedup = init.speedup ?? 1
  // A connection dialled for a record op or a neighbour's visit lives about grace + half the interval,
  // and its peer is another each time: an op a minute to its ~20 holders and a visit every 5 s hold
  // (20/60 + 1/5) x that life connections each way, ~8 at 10 s + 10 s, ~4 at 5 s + 5 s. A peer asked
  // (a runner) keeps its minute.
  const intervalMs = 5_000 / speedup
  const times: TrimTimes = { graceMs: 5_000 / speedup, idleMs: 60_000 / speedup }
  const log = libp2p.logger.forComponent('ripple:trimmer')
  let running = false

  // Tags are read (the peer store) only for peers the other checks leave closable: in a small mesh none.
  const self = libp2p.peerId.toString()
  const held = async (now: number): Promise<HeldPeer[]> => {
    const byPeer = new Map<string, Connection[]>()
    for (const c of libp2p.getConnections()) {
      const key = c.remotePeer.toString()
      const list = byPeer.get(key)
      if (list === undefined) byPeer.set(key, [c])
      else list.push(c)
    }
    return Promise.all(
      [...byPeer.values()].map(async (connections) => {
        const peer = connections[0]!.remotePeer
        const usedAt = rpc.lastActiveAt(peer)
        const entry: HeldPeer = {
          id: peer.toString(),
          connections: connections.length,
          outbound: decidesOn(
            connections.map((c) => c.direction),
            self,
            peer.toString(),
          ),
          kept: false,
          released: false,
          // What it knows of a peer is dropped at its disconnect: known, asked on this connection.
          asked: rpc.asked(peer),
          busy: connections.some(busy),
          activeAt: Math.max(usedAt ?? 0, ...connections.map((c) => c.timeline.open)),
        }
        if (entry.outbound && !entry.busy && now - entry.activeAt >= times.graceMs) {
          const tags = [...((await libp2p.peerStore.get(peer).catch(() => undefined))?.tags.keys() ?? [])]
          entry.kept = tags.some((tag) => KEEPING_TAGS.some((t) => t.test(tag)))
          entry.released = tags.includes(RELEASED_PEER_TAG)
        }
        return entry
      }),
    )
  }

  const trim = async () => {
    if (running) return
    running = true
    try {
      const byId = new Map(libp2p.getConnections().map((c) => [c.remotePeer.toString(), c.remotePeer]))
      const now = Date.now()
      for (const id of peersToTrim(await held(now), budget, now, times)) {
        const peer = byId.get(id)
        // Work begun with it while its tags were read keeps it (a request sent since `now`).
        if (peer === undefined || (rpc.lastActiveAt(peer) ?? 0) >= now) continue
        log('closing the unused connection to %p', peer)
        await libp2p.hangUp(peer).catch((err: Error) => log('could not hang up on %p - %e', peer, err))
      }
    } finally {
      running = false
    }
  }

  const timer = setInterval(() => void trim(), intervalMs)
  return {
    stop() {
      clearInterval(timer)
    },
  }
}
