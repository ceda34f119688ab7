/**
 * A page of peers a person asked for, with the capabilities of its members not read here (a sharded
 * mesh lists every member on record, `member: true`, but reads a far member's capability only when it
 * hears it) read now: one read each, kept by the registry, so a page costs its own size, not the mesh's.
 */
import type { NodeCapability } from '../../zomes-bindings/index.ts'
import type { PeerEntry } from '../interface/live-peers.ts'

export function filledPage<P extends PeerEntry>(
  page: readonly P[],
  capabilityOf: (agent: string) => Promise<{ entry: NodeCapability } | null>,
): Promise<P[]> {
  return Promise.all(
    page.map(async (peer) => {
      if (peer.member !== true) return peer
      // A read that fails leaves the member listed as it was.
      const read = await capabilityOf(peer.agent).catch(() => null)
      if (read === null) return peer
      const { member: _, ...known } = peer
      return { ...known, capability: read.entry, name: read.entry.name } as P
    }),
  )
}
