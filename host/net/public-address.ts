/**
 * Whether an address is public: one a request may make this peer fetch from without the peer
 * allowing local addresses. IPv4 goes by libp2p's list of non-public ranges, plus multicast; IPv6 is
 * read as its 128 bits, not its spelling, so `::ffff:7f00:1`, `0:0:0:0:0:0:0:1` and `::1` are judged
 * alike, and an IPv4 address embedded in it (mapped, compatible, translated or NAT64) is judged as
 * that IPv4 address, since that is where the connection goes.
 */
import { isIP } from 'node:net'
import { isPrivateIp } from '@libp2p/utils'

/**
 * IPv6 ranges that are not public (besides those embedding IPv4): discard, IETF special-purpose,
 * documentation, 6to4, local-use NAT64, unique-local, link-local, site-local, multicast.
 */
const NOT_PUBLIC_V6 = [
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16',
  '64:ff9b:1::/48',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
].map(range)

/**
 * IPv6 ranges whose last 32 bits are an IPv4 address: compatible (`::1` and `::` among them, judged
 * as 0.0.0.1 and 0.0.0.0), mapped, translated (SIIT), NAT64.
 */
const EMBEDS_V4 = ['::/96', '::ffff:0:0/96', '::ffff:0:0:0/96', '64:ff9b::/96'].map(range)

/** Not loopback, private, link-local, shared, reserved, documentation or multicast space. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return isPublicV4(address)
  if (family !== 6 || address.includes('%')) return false
  const bits = v6Bits(address)
  if (EMBEDS_V4.some((r) => r.contains(bits))) return isPublicV4(v4Text(bits & 0xffffffffn))
  return !NOT_PUBLIC_V6.some((r) => r.contains(bits))
}

function isPublicV4(address: string): boolean {
  const first = Number(address.split('.')[0])
  return isPrivateIp(address) !== true && !(first >= 224 && first <= 239)
}

/** An IPv6 address's 128 bits (the URL parser reads every spelling, an embedded dotted quad too). */
function v6Bits(address: string): bigint {
  const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1)
  const [head = '', tail] = canonical.split('::')
  const words = (part: string) => (part === '' ? [] : part.split(':').map((w) => BigInt(`0x${w}`)))
  const high = words(head)
  const low = tail === undefined ? [] : words(tail)
  const all = [...high, ...Array<bigint>(8 - high.length - low.length).fill(0n), ...low]
  return all.reduce((sum, word) => (sum << 16n) | word, 0n)
}

function v4Text(bits: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((bits >> shift) & 0xffn)).join('.')
}

function range(cidr: string): { contains(bits: bigint): boolean } {
  const [base = '', length = '128'] = cidr.split('/')
  const shift = 128n - BigInt(length)
  const prefix = v6Bits(base) >> shift
  return { contains: (bits) => bits >> shift === prefix }
}
