/**
 * A network partition between groups of players, for the scenarios of issue 57: every connection
 * between the groups is closed and refused (dials both ways, by the nodes' own connection gaters)
 * until healed. The gater is libp2p's, read on every dial and upgrade, so wrapping its checks takes
 * effect at once; healing puts them back and dials across again.
 */
import type { PeerId } from '@libp2p/interface'
import type { Player } from './harness.ts'

type Gate = 'denyDialPeer' | 'denyInboundEncryptedConnection' | 'denyOutboundEncryptedConnection'
const GATES: readonly Gate[] = [
  'denyDialPeer',
  'denyInboundEncryptedConnection',
  'denyOutboundEncryptedConnection',
]
type Gater = Partial<Record<Gate, (peer: PeerId, ...rest: unknown[]) => boolean | Promise<boolean>>>

const gaterOf = (player: Player): Gater =>
  (player.node.libp2p as unknown as { components: { connectionGater: Gater } }).components.connectionGater

/** Cuts every link between `a` and `b`; resolves once none is left. The returned function heals it. */
export async function partition(a: readonly Player[], b: readonly Player[]): Promise<() => Promise<void>> {
  const restore: (() => void)[] = []
  for (const [side, other] of [
    [a, b],
    [b, a],
  ] as const) {
    const refused = new Set(other.map((p) => p.node.peerId.toString()))
    for (const player of side) {
      const gater = gaterOf(player)
      for (const gate of GATES) {
        const before = gater[gate]
        gater[gate] = (peer, ...rest) => refused.has(peer.toString()) || (before?.(peer, ...rest) ?? false)
        restore.push(() => {
          gater[gate] = before
        })
      }
    }
  }
  await Promise.all(a.flatMap((p) => b.map((q) => p.node.libp2p.hangUp(q.node.peerId).catch(() => {}))))
  return async () => {
    for (const undo of restore) undo()
    await Promise.allSettled(a.flatMap((p) => b.map((q) => p.node.libp2p.dial(q.node.multiaddrs()))))
  }
}
