/**
 * The agent port over this peer's libp2p node: an agent's key is its peer id (identity/peer-agent.ts),
 * so services name agents and only this file turns them into peers. Streams and requests go through
 * the node's members-only layers (net/peer-streams.ts, net/request-response.ts).
 */
import type { PeerId, Stream } from '@libp2p/interface'
import { agentOfPeerB64, peerIdOfAgent } from '../identity/peer-agent.ts'
import type { AgentPort } from '../interface/agent-port.ts'
import type { RippleNode } from '../net/create-node.ts'

/** The agent of a peer that opened a stream or asked; one whose key is no agent's (not Ed25519) is refused. */
function agentOf(peer: PeerId): string {
  const agent = agentOfPeerB64(peer)
  if (agent === null) throw new Error(`peer ${peer} has no agent key`)
  return agent
}

export function libp2pAgentPort(node: Pick<RippleNode, 'libp2p' | 'rpc' | 'streams'>): AgentPort<Stream> {
  return {
    open: (agent, protocols, signal) => node.streams.open(peerIdOfAgent(agent), protocols, signal),
    handle: (protocol, handler) =>
      node.streams.handle(protocol, (stream, peer) => handler(stream, agentOf(peer))),
    request: (agent, protocol, request, options) =>
      node.rpc.request(peerIdOfAgent(agent), protocol, request, options),
    answer: (protocol, handler) =>
      node.rpc.handle(protocol, (request, peer) => handler(request, agentOf(peer))),
    // Both layers register the same libp2p protocol id for a suffix: one unhandle serves either.
    unhandle: (protocol) => node.streams.unhandle(protocol),
    rtt: async (agent) => Math.round(await node.libp2p.services.ping.ping(peerIdOfAgent(agent))),
  }
}
