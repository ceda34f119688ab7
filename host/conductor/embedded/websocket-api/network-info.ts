/**
 * What the conductor API reports of the network: kitsune2's TransportStats (`dump_network_stats`),
 * filled from the libp2p node the embedded conductor replicates over, and this agent's infos
 * (`agent_info`).
 */
import { DNA_NAMES } from '../../../../zomes-bindings/index.ts'
import { encodeHashB64 } from '../../../identity/hash.ts'
import { agentOfPeer } from '../../../identity/peer-agent.ts'
import type { RippleNode } from '../../../net/create-node.ts'
import { nowMicros } from '../../../runtime/clock.ts'
import type { EmbeddedConductor } from '../conductor.ts'

export interface TransportConnection {
  /** HoloHashB64 of the peer's agent key (its PeerId is that key). */
  pub_key: string
  send_message_count: number
  send_bytes: number
  recv_message_count: number
  recv_bytes: number
  opened_at_s: number
  /** False for a connection through a relay. */
  is_direct: boolean
}

export interface TransportView {
  /** Where peers reach this conductor. */
  peerUrls(): string[]
  connections(): TransportConnection[]
}

export function transportStats(view: TransportView): Record<string, unknown> {
  return { backend: 'libp2p', peer_urls: view.peerUrls(), connections: view.connections() }
}

/**
 * The node's open connections to verified peers. libp2p keeps no per-connection message or byte
 * counters unless its metrics are on, so those four counts are reported as 0.
 */
export function libp2pTransportView(node: RippleNode): TransportView {
  return {
    peerUrls: () => node.multiaddrs().map(String),
    connections: () =>
      node.libp2p.getConnections().flatMap((conn) => {
        const agent = agentOfPeer(conn.remotePeer)
        if (agent === null || !node.peers.has(conn.remotePeer)) return []
        return [
          {
            pub_key: encodeHashB64(agent),
            send_message_count: 0,
            send_bytes: 0,
            recv_message_count: 0,
            recv_bytes: 0,
            opened_at_s: Math.floor(conn.timeline.open / 1000),
            is_direct: conn.limits === undefined,
          },
        ]
      }),
  }
}

export interface AgentInfoSource {
  conductor: EmbeddedConductor
  transport: TransportView
  /** Signs with the agent key (agent infos are signed by their agent). */
  sign(bytes: Uint8Array): Uint8Array
}

/** Agent infos as kitsune2 encodes them: this agent's, signed, for each space asked (`dna_hashes`). */
export function agentInfos({ conductor, transport, sign }: AgentInfoSource, value: unknown): string[] {
  const asked = (value as { dna_hashes?: unknown } | null)?.dna_hashes
  const dnas = DNA_NAMES.filter(
    (dna) =>
      !Array.isArray(asked) ||
      asked.some((h) => h instanceof Uint8Array && Buffer.compare(h, conductor.cell(dna).dnaHash) === 0),
  )
  const now = nowMicros()
  return dnas.map((dna) => {
    const agentInfo = JSON.stringify({
      agent: Buffer.from(conductor.cell(dna).agentPubKey.subarray(3, 35)).toString('base64url'),
      space: Buffer.from(conductor.cell(dna).dnaHash.subarray(3, 35)).toString('base64url'),
      createdAt: String(now),
      expiresAt: String(now + 20 * 60 * 1_000_000),
      isTombstone: false,
      url: transport.peerUrls()[0] ?? null,
      storageArc: [0, 4294967295],
    })
    const signature = sign(new TextEncoder().encode(agentInfo))
    return JSON.stringify({ agentInfo, signature: Buffer.from(signature).toString('base64') })
  })
}
