/** Shared setup for the net tests: loopback-only networks and nodes, and polling. */
import { randomUUID } from 'node:crypto'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { createRippleNode, type RippleNode, type RippleNodeInit } from '../../../host/net/create-node.ts'
import type { AdmissionCheck } from '../../../host/net/member-gate.ts'

export const LOOPBACK_LISTEN = ['/ip4/127.0.0.1/tcp/0']

/**
 * A fresh embedded network per call (random seed), so test files running in parallel never
 * share topics or an mDNS service name.
 */
export function testNetwork(libp2p: Partial<NonNullable<NetworkConfig['libp2p']>> = {}): NetworkConfig {
  return {
    name: 'net-test',
    seed: randomUUID(),
    backend: 'embedded',
    dna_properties: {},
    heartbeat: { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 5000 },
    libp2p: { listen: LOOPBACK_LISTEN, mdns: false, bootstrap: [], psk: null, ...libp2p },
  }
}

/**
 * A node that can only ever touch loopback: TCP on 127.0.0.1, mDNS pinned to 127.0.0.1. No conductor
 * runs here to say who is a member, so its gate admits every verified peer unless `admit` says otherwise.
 */
export async function loopbackNode(
  init: Omit<RippleNodeInit, 'listen' | 'mdnsInterface'> & { listen?: string[]; admit?: AdmissionCheck },
) {
  const { admit, ...rest } = init
  // Not started by createRippleNode: the gate is set first, as the embedded peer does.
  const node = await createRippleNode({
    listen: LOOPBACK_LISTEN,
    mdnsInterface: '127.0.0.1',
    loopbackTuning: true,
    handshakeTimeoutMs: 2_000,
    ...rest,
    start: false,
  })
  node.gate.use(admit ?? (async () => null))
  if (init.start !== false) await node.start()
  return node
}

/** `first` plus nodes that dial it: a star, enough for gossip and requests. */
export async function star(network: NetworkConfig, count: number): Promise<RippleNode[]> {
  const first = await loopbackNode({ network })
  const hub = first.multiaddrs().map(String)
  const rest = await Promise.all(
    Array.from({ length: count - 1 }, () => loopbackNode({ network, peers: hub })),
  )
  return [first, ...rest]
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export function connectedTo(node: RippleNode, others: RippleNode[]): boolean {
  return others.every((other) => node.peers.has(other.peerId))
}

export async function stopAll(nodes: RippleNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()))
}
