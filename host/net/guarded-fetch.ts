/**
 * A GET that a request makes this peer do (an image URL of a `/v1` request) goes to public addresses
 * only, unless the peer allows local ones too: not to this machine (the engine and the RPC workers
 * listen on loopback), its LAN, link-local addresses (a cloud's metadata service) or the like. Each
 * hop of a redirect is checked, and the connection goes to the addresses that were checked (a name
 * that resolves to another address the second time is not asked again).
 */
import { lookup } from 'node:dns/promises'
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { Agent, fetch, type Response } from 'undici'

/**
 * Addresses that are not on the public internet (IANA special-purpose registries), one list per
 * family: a BlockList also matches an IPv4 address against IPv6 rules.
 */
const NOT_PUBLIC_V4 = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC_V4.addSubnet(net, prefix, 'ipv4')
const NOT_PUBLIC_V6 = new BlockList()
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC_V6.addSubnet(net, prefix, 'ipv6')

export function isPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return !NOT_PUBLIC_V4.check(address, 'ipv4')
  if (family !== 6) return false
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1, ::ffff:a00:1) is judged as the IPv4 one.
  const compressed = new URL(`http://[${address}]`).hostname.slice(1, -1)
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed)
  if (mapped) {
    const [high, low] = [Number.parseInt(mapped[1]!, 16), Number.parseInt(mapped[2]!, 16)]
    return isPublicAddress(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`)
  }
  return !NOT_PUBLIC_V6.check(address, 'ipv6')
}

/** A URL that leads (or redirects) to an address the peer does not fetch from. */
export class AddressNotAllowedError extends Error {
  static override readonly name = 'AddressNotAllowedError'
  constructor(host: string, address: string) {
    super(`${host} is ${address}, not a public address`)
    this.name = 'AddressNotAllowedError'
  }
}

export interface GuardedFetchOptions {
  /** Local addresses too (loopback, private, link-local): the peer's own choice. */
  local: boolean
  signal: AbortSignal
  /** Default 5. */
  maxRedirects?: number
}

/**
 * GETs `url`, following redirects, each hop's address checked, and reads the final response with
 * `read` (its connection closed after).
 */
export async function guardedFetch<T>(
  url: URL,
  options: GuardedFetchOptions,
  read: (response: Response) => Promise<T>,
): Promise<T> {
  let at = url
  for (let hop = 0; ; hop++) {
    if (at.protocol !== 'http:' && at.protocol !== 'https:')
      throw new Error(`a redirect to a ${at.protocol} URL`)
    const addresses = await addressesOf(at.hostname)
    if (!options.local)
      for (const { address } of addresses)
        if (!isPublicAddress(address)) throw new AddressNotAllowedError(at.hostname, address)
    const dispatcher = new Agent({ connect: { lookup: pinned(addresses) } })
    try {
      const response = await fetch(at, { signal: options.signal, redirect: 'manual', dispatcher })
      const location = response.headers.get('location')
      if (response.status < 300 || response.status >= 400 || location === null) return await read(response)
      await response.body?.cancel()
      if (hop >= (options.maxRedirects ?? 5)) throw new Error('too many redirects')
      at = new URL(location, at)
    } finally {
      await dispatcher.destroy().catch(() => {})
    }
  }
}

async function addressesOf(hostname: string): Promise<{ address: string; family: number }[]> {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  const family = isIP(bare)
  if (family !== 0) return [{ address: bare, family }]
  return lookup(bare, { all: true })
}

/** A lookup that answers the addresses checked, whatever the name resolves to now. */
function pinned(addresses: { address: string; family: number }[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, addresses)
    else callback(null, addresses[0]!.address, addresses[0]!.family)
  }
}
