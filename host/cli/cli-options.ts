/** Parsers for option values shared by several commands; a bad value stops the CLI with a clear message. */
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidArgumentError } from 'commander'
import { NodeCapabilitySchema, TagSchema } from '../../zomes-bindings/index.ts'

/** `value` as a whole number written in decimal digits; NaN otherwise (Number() reads '' as 0, and 0x50 and 1e3 too). */
export function decimalInteger(value: string): number {
  return /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN
}

export function parsePort(value: string): number {
  const port = decimalInteger(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('must be a port number 0..65535 (0 picks a free port)')
  }
  return port
}

export function collectTag(value: string, previous: string[] = []): string[] {
  const parsed = TagSchema.safeParse(value)
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues.map((i) => i.message).join('; '))
  return previous.includes(value) ? previous : [...previous, value]
}

export function parseName(value: string): string {
  const parsed = NodeCapabilitySchema.shape.name.safeParse(value)
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues.map((i) => i.message).join('; '))
  return value
}

/** A parser for an integer option in `min..max`. */
export function parseIntegerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = decimalInteger(value)
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`must be an integer ${min}..${max}`)
    return n
  }
}

/** A parser for a decimal number option in `min..max` (such as a temperature). */
export function parseNumberIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`must be a number ${min}..${max}`)
    return n
  }
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
}

/** A size such as `64GiB`, `512m` or `1024` (bytes); units are binary. */
export function parseByteSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim())
  const unit = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined
  if (!match || unit === undefined)
    throw new InvalidArgumentError('must be a size like 64GiB, 512MiB or 1024')
  return Math.round(Number(match[1]) * unit)
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** A duration such as `90s`, `10m`, `2h` or `1500ms`, in milliseconds. */
export function parseDurationMs(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim())
  if (!match) throw new InvalidArgumentError('must be a duration like 1500ms, 90s, 10m or 2h')
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!)
}

/** Collects a repeatable multiaddr option (`--peer`, `--listen`), refusing one that does not parse. */
export function collectMultiaddr(value: string, previous: string[] = []): string[] {
  try {
    multiaddr(value)
  } catch {
    throw new InvalidArgumentError(
      `not a multiaddr: ${value} (e.g. /ip4/192.168.1.20/tcp/4001/p2p/12D3KooW...)`,
    )
  }
  return [...previous, value]
}
