/**
 * Connections opened since start, by direction. Each is a handshake at both ends (Noise, identify, the
 * hello), the dearest thing a connection costs: a peer that holds few connections but opens a new one
 * every second pays more than one holding many. The rate is what design 4e bounds per peer.
 */
import type { Connection } from '@libp2p/interface'
import type { TypedEventTarget } from 'main-event'

export interface OpenCounts {
  inbound: number
  outbound: number
}

/** Counts from now on; the counts are read live. */
export function countOpens(
  events: Pick<TypedEventTarget<{ 'connection:open': CustomEvent<Connection> }>, 'addEventListener'>,
): Readonly<OpenCounts> {
  const counts: OpenCounts = { inbound: 0, outbound: 0 }
  events.addEventListener('connection:open', ({ detail }) => {
    counts[detail.direction]++
  })
  return counts
}
