/**
 * Which addresses a URL a request makes this peer fetch may lead to without the peer allowing local
 * ones: public ones only (not loopback, private, link-local, shared, unspecified, multicast or
 * site-local, in IPv4 or IPv6, nor an IPv4 one embedded in IPv6: mapped, compatible or NAT64), and a
 * redirect's next hop judged again. The fetch itself is tested through image URLs
 * (tests/unit/api/image-parts.test.ts).
 */
import { Response } from 'undici'
import { describe, expect, it, vi } from 'vitest'
import { AddressNotAllowedError, guardedFetch } from '../../../host/net/guarded-fetch.ts'
import { isPublicAddress } from '../../../host/net/public-address.ts'

const fetched = vi.hoisted(() => [] as string[])
// The first hop answers a redirect without a connection: a public address cannot be served here.
vi.mock('undici', async (original) => ({
  ...(await original<typeof import('undici')>()),
  fetch: async (url: URL) => {
    fetched.push(url.href)
    return new Response(null, { status: 302, headers: { location: 'http://127.0.0.1:9/a.png' } })
  },
}))

describe('isPublicAddress', () => {
  it.each([
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['2606:4700:4700::1111', true],
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.9', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['0:0:0:0:0:0:0:1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:8.8.8.8', true],
    ['::ffff:7f00:1', false],
    ['::ffff:a00:1', false],
    // NAT64: the IPv4 address in its last 32 bits is judged.
    ['64:ff9b::7f00:1', false],
    ['64:ff9b::a9fe:a9fe', false],
    ['64:ff9b::127.0.0.1', false],
    ['64:ff9b::808:808', true],
    ['64:ff9b:1::1', false],
    // IPv4-compatible IPv6.
    ['::a9fe:a9fe', false],
    ['::7f00:1', false],
    ['::10.0.0.1', false],
    // Multicast.
    ['224.0.0.1', false],
    ['239.255.255.250', false],
    ['ff02::1', false],
    ['ff0e::1', false],
    ['::ffff:224.0.0.1', false],
    // Site-local.
    ['fec0::1', false],
    ['feff::1', false],
    ['2001:db8::1', false],
    ['fe80::1%eth0', false],
    ['not an address', false],
  ])('%s: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected)
  })
})

describe('guardedFetch', () => {
  it('refuses a redirect from a public address to a loopback one, local addresses not allowed', async () => {
    const read = vi.fn()
    const fetching = guardedFetch(
      new URL('http://93.184.215.14/a.png'),
      { local: false, signal: AbortSignal.timeout(5_000) },
      read,
    )
    await expect(fetching).rejects.toThrow(AddressNotAllowedError)
    await expect(fetching).rejects.toThrow(/127\.0\.0\.1 is 127\.0\.0\.1, not a public address/)
    expect(fetched).toEqual(['http://93.184.215.14/a.png'])
    expect(read).not.toHaveBeenCalled()
  })
})
