/**
 * The mesh's members as this peer's record shows them: every member advertises its capability at
 * its first start, so the peers with a capability entry that are not revoked, and where a sharded mesh
 * lists members from the membership it holds, those whose capability is not read here. What `ripple
 * peers`, the dashboard and /metrics count, whatever page of the peers they show.
 */
import type { KnownPeer } from '../interface/live-peers.ts'

export function memberCount(
  peers: readonly (Pick<KnownPeer, 'capability' | 'member'> & { revoked?: boolean | undefined })[],
): number {
  return peers.filter((p) => (p.capability !== null || p.member === true) && p.revoked !== true).length
}
