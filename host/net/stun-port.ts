import { multiaddr } from '@multiformats/multiaddr'

/** The UDP port peers look for STUN on at their bootstrap hosts (`ripple relay` answers there). */
export const DEFAULT_STUN_PORT = 3478

/** The STUN responders of the bootstrap peers (`ripple relay` runs one beside each relay). */
export function stunServers(bootstrap: readonly string[], peers: readonly string[] = []): { urls: string }[] {
  const hosts = new Set<string>()
  for (const addr of [...bootstrap, ...peers]) {
    const host = multiaddr(addr).getComponents()[0]
    if (host?.value !== undefined && ['ip4', 'dns4', 'dns'].includes(host.name)) hosts.add(host.value)
  }
  return [...hosts].map((host) => ({ urls: `stun:${host}:${DEFAULT_STUN_PORT}` }))
}
