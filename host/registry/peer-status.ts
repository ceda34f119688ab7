import type { NetworkConfig } from '../config/network-schema.ts'

import type { PeerStatus } from '../interface/live-peers.ts'

export type HeartbeatConfig = NetworkConfig['heartbeat']

/**
 * A peer's status from when we last heard its heartbeat (local clock, ms), per the network's
 * timing: `online` while heartbeats arrive, `stale` once `stale_after_missed` intervals have passed
 * without one, `offline` after `offline_after_ms`. A peer that beats slower than the network's
 * interval (a big mesh's idle pace, `everyMs`) has both stretched by as much. A peer never heard from
 * (known only from its capability entry) is `offline`.
 */
export function peerStatus(
  lastHeardAt: number | null,
  now: number,
  config: HeartbeatConfig,
  everyMs = config.interval_ms,
): PeerStatus {
  if (lastHeardAt === null) return 'offline'
  const silentFor = now - lastHeardAt
  const stretch = Math.max(1, everyMs / config.interval_ms)
  if (silentFor >= config.offline_after_ms * stretch) return 'offline'
  if (silentFor > config.stale_after_missed * config.interval_ms * stretch) return 'stale'
  return 'online'
}
