/** Nodes on `@libp2p/memory` (one process, no sockets): the directory's and topics' tests. */
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { createRippleNode, type RippleNode, type RippleNodeInit } from '../../../host/net/create-node.ts'
import type { AdmissionCheck } from '../../../host/net/member-gate.ts'

/** A started node on the memory transport whose gate admits every verified peer unless `admit` says otherwise. */
export async function memoryNode(
  init: Omit<RippleNodeInit, 'transports'> & { admit?: AdmissionCheck },
): Promise<RippleNode> {
  const { admit, ...rest } = init
  const node = await createRippleNode({
    handshakeTimeoutMs: 2_000,
    ...rest,
    transports: 'memory',
    start: false,
  })
  node.gate.use(admit ?? (async () => null))
  if (init.start !== false) await node.start()
  return node
}

/** A network of this test's own whose peers hold at most `maxConnections`. */
export function withMaxConnections(network: NetworkConfig, maxConnections: number): NetworkConfig {
  return { ...network, libp2p: { ...network.libp2p!, max_connections: maxConnections } }
}

/** Polls an async condition (a directory lookup) until it holds. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (ok(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
