/**
 * The ping kad-dht's routing table checks a contact with, over an open connection only. Kad-dht pings
 * every peer a lookup's answers name before it adds it to its table (and a full bucket's old contacts
 * before it evicts one): a peer never met is dialled for it. Each answer names up to 20 peers, so past
 * a few dozen members every lookup dialled tens of peers at once for nothing but that ping (150
 * simulated peers: about half of all connections opened; a requester held 112 outbound connections
 * 4 s after its lookups, twice its budget). The table learns the peers a lookup talks to and those
 * that connect for any reason, and checks them over that connection; a contact not connected is not
 * added now (met later, it is), and a full bucket's old contact not connected makes way for a new one
 * that is. Who may be in the table is the member gate's to say, not a contact's age.
 */
import { isPeerId, type PeerId } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'

export function pingConnectedOnly(
  ping: Ping,
  connections: { getConnections(peer: PeerId): readonly unknown[] },
): Ping {
  return {
    ping: async (peer, options) => {
      // Kad-dht pings by peer id; an address names a dial someone asked for, passed on.
      if (isPeerId(peer) && connections.getConnections(peer).length === 0)
        throw new Error(`not connected to ${peer}: the directory checks a contact over an open connection`)
      return ping.ping(peer, options)
    },
  }
}
