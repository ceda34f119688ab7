import { describe, expect, it } from 'vitest'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

/** What keeps the event loop (and so vitest's worker) alive, by kind. */
function active(kind: RegExp): number {
  return process.getActiveResourcesInfo().filter((r) => kind.test(r)).length
}
const SOCKETS = /TCP|UDP/
const TIMERS = /Timeout/

describe('stopping', () => {
  it('leaves no socket or timer behind after nodes that discovered, gossiped and requested', async () => {
    const sockets = active(SOCKETS)
    const timers = active(TIMERS)
    const network = testNetwork({ mdns: true })
    const nodes = await Promise.all([1, 2, 3].map(() => loopbackNode({ network, start: false })))
    for (const node of nodes) {
      await node.rpc.handle('echo/1.0.0', async (req) => req)
      await node.start()
    }
    await waitFor('the mesh', () =>
      nodes.every((n) =>
        connectedTo(
          n,
          nodes.filter((o) => o !== n),
        ),
      ),
    )
    await nodes[0]!.pubsub.publish('ops', new Uint8Array([1]))
    await nodes[0]!.rpc.request(nodes[1]!.peerId, 'echo/1.0.0', new Uint8Array([2]))
    expect(active(SOCKETS)).toBeGreaterThan(sockets)

    await stopAll(nodes)
    for (const node of nodes) expect(node.libp2p.status).toBe('stopped')
    await waitFor('sockets to close', () => active(SOCKETS) === sockets, 1_000)
    // libp2p's address debounce and a gossipsub heartbeat already scheduled at stop run once more
    // (within 1 s) and are not renewed.
    await waitFor('timers to drain', () => active(TIMERS) <= timers, 3_000)
  })
})
