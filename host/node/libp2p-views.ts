/**
 * What a peer's libp2p node shows the services, by agent key (a member's PeerId is its agent key):
 * the model directory, and how this peer is linked to each agent. Either backend's node.
 */
import type { Connection } from '@libp2p/interface'
import { encodeHashB64 } from '../identity/hash.ts'
import { agentOfPeer, agentOfPeerB64, peerIdOfAgent } from '../identity/peer-agent.ts'
import type { ModelDirectoryPort } from '../interface/model-directory.ts'
import type { PeerLink } from '../interface/peer-link.ts'
import type { MemberAddresses } from '../net/member-addresses.ts'
import type { ModelDirectory } from '../net/model-directory.ts'
import { linkOf } from '../net/peer-links.ts'

/** The node's model directory by agent key (a member's PeerId is its agent key). */
export function agentDirectory(directory: ModelDirectory): ModelDirectoryPort {
  return {
    advertise: (model) => directory.advertise(model),
    withdraw: (model) => directory.withdraw(model),
    find: async (model, options) =>
      (await directory.find(model, options)).map(agentOfPeerB64).filter((a): a is string => a !== null),
    stats: () => directory.stats(),
  }
}

/** The node's book of members' addresses by agent key, as the registry tells and hears them. */
export function agentAddresses(book: MemberAddresses) {
  return {
    own: () => book.own(),
    heard: (agent: string, told: unknown) => book.heard(peerIdOfAgent(agent), told),
  }
}

export function linksByAgent(connections: Connection[]): Map<string, PeerLink> {
  const byPeer = new Map<string, Connection[]>()
  for (const connection of connections) {
    const key = connection.remotePeer.toString()
    byPeer.set(key, [...(byPeer.get(key) ?? []), connection])
  }
  const links = new Map<string, PeerLink>()
  for (const connections of byPeer.values()) {
    const agent = agentOfPeer(connections[0]!.remotePeer)
    const link = linkOf(connections)
    if (agent !== null && link !== null) links.set(encodeHashB64(agent), link)
  }
  return links
}
