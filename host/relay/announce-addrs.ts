/**
 * What a relay advertises when its operator names no `--announce`: its listen addresses, a wildcard
 * host expanded to this machine's IPv4 interfaces. libp2p only advertises a public address once
 * AutoNAT confirmed it, which a relay whose peers all sit behind NAT would wait for in vain; the
 * operator of a relay knows it is reachable.
 */
import { multiaddr } from '@multiformats/multiaddr'

/** Listen multiaddrs, and `os.networkInterfaces()`-shaped IPv4 addresses of this machine. */
export function relayAnnounceAddrs(listen: readonly string[], interfaceIps: readonly string[]): string[] {
  const announce = new Set<string>()
  for (const addr of listen) {
    const [host, transport] = multiaddr(addr).getComponents()
    if (host?.name !== 'ip4' || transport?.name !== 'tcp' || transport.value === '0') continue
    const hosts = host.value === '0.0.0.0' ? interfaceIps : [host.value!]
    for (const ip of hosts) if (!ip.startsWith('127.')) announce.add(`/ip4/${ip}/tcp/${transport.value}`)
  }
  return [...announce]
}
