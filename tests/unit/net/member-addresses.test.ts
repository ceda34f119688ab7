/**
 * What a member tells of its addresses and what a peer keeps of what it hears (member-addresses.ts):
 * its own id left off and public ones first; lists beyond the contract's bounds, text that is no
 * multiaddr and addresses that dial another peer refused with the reason, the last good list kept.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { addrsToTell, MemberAddresses, readAddrs } from '../../../host/net/member-addresses.ts'
import { MEMBER_ADDRS } from '../../../zomes-bindings/index.ts'

const newPeer = async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const SELF = await newPeer()
const OTHER = await newPeer()
const RELAY = await newPeer()
const PUBLIC = '/ip4/93.184.216.34/tcp/4001'
const LOCAL = '/ip4/127.0.0.1/tcp/4001'

describe('addrsToTell', () => {
  it('leaves off its own id, tells public addresses first, once each', () => {
    const told = addrsToTell(
      [multiaddr(`${LOCAL}/p2p/${SELF}`), multiaddr(`${PUBLIC}/p2p/${SELF}`), multiaddr(PUBLIC)],
      SELF,
    )
    expect(told).toEqual([PUBLIC, LOCAL])
  })

  it('keeps a relayed address whole and tells at most the contract allows', () => {
    const relayed = `${PUBLIC}/p2p/${RELAY}/p2p-circuit`
    const many = Array.from({ length: 12 }, (_, i) => multiaddr(`/ip4/203.0.113.${i + 1}/tcp/4001`))
    expect(addrsToTell([multiaddr(`${relayed}/p2p/${SELF}`)], SELF)).toEqual([relayed])
    expect(addrsToTell(many, SELF)).toHaveLength(MEMBER_ADDRS.max)
  })
})

describe('readAddrs', () => {
  const refused: [string, unknown, RegExp][] = [
    ['not a list', PUBLIC, /out of bounds/],
    ['too many', Array.from({ length: MEMBER_ADDRS.max + 1 }, () => PUBLIC), /out of bounds/],
    ['too long', [`/dns4/${'a'.repeat(MEMBER_ADDRS.length)}/tcp/1`], /out of bounds/],
    ['not a multiaddr', ['/ip4/999.1.1.1/tcp/1'], /not a multiaddr/],
    ['an unknown protocol', ['/nonsense/1'], /not a multiaddr/],
    ['not starting with a slash', ['ip4/1.2.3.4'], /out of bounds/],
    ['another peer at the end', [`${PUBLIC}/p2p/${OTHER}`], /dials another peer/],
    [
      'another peer behind a relay',
      [`${PUBLIC}/p2p/${RELAY}/p2p-circuit/p2p/${OTHER}`],
      /dials another peer/,
    ],
  ]
  it.each(refused)('refuses %s', async (_name, told, why) => {
    expect(readAddrs(SELF, told)).toMatch(why)
  })

  it('reads its own id, a relay before the circuit and an empty list', () => {
    const relayed = `${PUBLIC}/p2p/${RELAY}/p2p-circuit`
    expect(readAddrs(SELF, [PUBLIC, `${LOCAL}/p2p/${SELF}`, relayed]).toString()).toBe(
      [PUBLIC, `${LOCAL}/p2p/${SELF}`, relayed].join(','),
    )
    expect(readAddrs(SELF, [])).toEqual([])
  })
})

describe('MemberAddresses', () => {
  it("keeps a member's last good list when the next is refused", () => {
    const book = new MemberAddresses(SELF, () => [multiaddr(`${PUBLIC}/p2p/${SELF}`)])
    expect(book.own()).toEqual([PUBLIC])
    expect(book.of(OTHER)).toEqual([])
    expect(book.heard(OTHER, [PUBLIC])).toBeNull()
    expect(book.heard(OTHER, [`${PUBLIC}/p2p/${RELAY}`])).toMatch(/dials another peer/)
    expect(book.of(OTHER).map(String)).toEqual([PUBLIC])
    expect(book.heard(OTHER, [LOCAL])).toBeNull()
    expect(book.of(OTHER).map(String)).toEqual([LOCAL])
  })
})
