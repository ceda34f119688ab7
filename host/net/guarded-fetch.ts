/**
 * A GET that a request makes this peer do (an image URL of a `/v1` request) goes to public addresses
 * only, unless the peer allows local ones too: not to this machine (the engine and the RPC workers
 * listen on loopback), its LAN, link-local addresses (a cloud's metadata service), multicast or the
 * like (`public-address.ts`). Each hop of a redirect is checked, and the connection goes to the
 * addresses that were checked (a name that resolves to another address the second time is not asked
 * again).
 */
import { lookup } from 'node:dns/promises'
import { isIP, type LookupFunction } from 'node:net'
import { Agent, fetch, type Response } from 'undici'
import { isPublicAddress } from './public-address.ts'

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
