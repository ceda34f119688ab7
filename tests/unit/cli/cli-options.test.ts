/**
 * The CLI's shared option parsers: each gives the value a command uses, or stops with commander's
 * InvalidArgumentError and a message that says what was wanted.
 */
import { InvalidArgumentError } from 'commander'
import { describe, expect, it } from 'vitest'
import {
  collectMultiaddr,
  collectTag,
  parseByteSize,
  parseDurationMs,
  parseIntegerIn,
  parseName,
  parseNumberIn,
  parsePort,
} from '../../../host/cli/cli-options.ts'

describe('parsePort', () => {
  it.each([
    ['0', 0],
    ['8080', 8080],
    ['65535', 65535],
  ])('takes %s', (value, port) => {
    expect(parsePort(value)).toBe(port)
  })

  it.each(['65536', '-1', '80.5', 'http', '', ' ', '0x50', '1e3'])('refuses %j', (value) => {
    expect(() => parsePort(value)).toThrow(InvalidArgumentError)
    expect(() => parsePort(value)).toThrow(/port number 0\.\.65535/)
  })
})

describe('parseNumberIn', () => {
  const parse = parseNumberIn(0, 2)

  it('takes a decimal number in its range, ends included', () => {
    expect([parse('0'), parse('0.7'), parse('2')]).toEqual([0, 0.7, 2])
  })

  it.each(['-0.1', '2.5', 'hot', '', '0x1', '1e0'])('refuses %j, naming the range', (value) => {
    expect(() => parse(value)).toThrow('must be a number 0..2')
  })
})

describe('parseIntegerIn', () => {
  const parse = parseIntegerIn(1, 8)

  it('takes an integer in its range, ends included', () => {
    expect([parse('1'), parse('5'), parse('8')]).toEqual([1, 5, 8])
  })

  it.each(['0', '9', '2.5', 'two', '', '0x5', '5e0'])('refuses %j, naming the range', (value) => {
    expect(() => parse(value)).toThrow('must be an integer 1..8')
  })
})

describe('parseByteSize', () => {
  it.each([
    ['1024', 1024],
    ['512b', 512],
    ['4k', 4096],
    ['512MiB', 512 * 1024 ** 2],
    ['64GiB', 64 * 1024 ** 3],
    ['1.5 gb', 1.5 * 1024 ** 3],
    ['2T', 2 * 1024 ** 4],
    ['  8m  ', 8 * 1024 ** 2],
    ['0.3k', 307],
  ])('reads %j as %i bytes', (value, bytes) => {
    expect(parseByteSize(value)).toBe(bytes)
  })

  it.each(['', 'GiB', '64 PB', '-1k', '1e3', '64 GiB extra'])('refuses %j', (value) => {
    expect(() => parseByteSize(value)).toThrow(/must be a size like 64GiB/)
  })
})

describe('parseDurationMs', () => {
  it.each([
    ['1500ms', 1500],
    ['90s', 90_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1.5s', 1500],
    [' 3 m ', 180_000],
  ])('reads %j as %i ms', (value, ms) => {
    expect(parseDurationMs(value)).toBe(ms)
  })

  it.each(['90', '10M', 'ten minutes', '5w', '-2s'])('refuses %j (a unit is required)', (value) => {
    expect(() => parseDurationMs(value)).toThrow(/must be a duration like 1500ms/)
  })
})

describe('collectTag', () => {
  it('adds a tag once, keeping the order given', () => {
    const tags = collectTag('gpu', collectTag('lab/room-2'))
    expect(tags).toEqual(['lab/room-2', 'gpu'])
    expect(collectTag('gpu', tags)).toEqual(['lab/room-2', 'gpu'])
  })

  it.each(['GPU', '-gpu', 'has space', ''])("refuses %j with the schema's message", (value) => {
    expect(() => collectTag(value)).toThrow(InvalidArgumentError)
  })
})

describe('parseName', () => {
  it('takes a name the capability schema allows', () => {
    expect(parseName('workstation-1')).toBe('workstation-1')
  })

  it('refuses one it does not', () => {
    expect(() => parseName('')).toThrow(InvalidArgumentError)
    expect(() => parseName('x'.repeat(10_000))).toThrow(InvalidArgumentError)
  })
})

describe('collectMultiaddr', () => {
  const addr = '/ip4/192.168.1.20/tcp/4001'

  it('collects every address given, in order', () => {
    expect(collectMultiaddr('/ip6/::1/tcp/4002', collectMultiaddr(addr))).toEqual([addr, '/ip6/::1/tcp/4002'])
  })

  it('refuses what is not a multiaddr, with an example', () => {
    expect(() => collectMultiaddr('192.168.1.20:4001')).toThrow(
      /not a multiaddr: 192\.168\.1\.20:4001 \(e\.g\./,
    )
  })
})
