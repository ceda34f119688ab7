/** Small formatters shared by the pages. */

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return `${value >= 10 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`
}

/** An agent key or hash shortened the way the CLI shows it. */
export function short(hash: string, keep = 12): string {
  return hash.length > keep ? `${hash.slice(0, keep)}…` : hash
}

export function ago(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return 'never'
  if (ms < 1500) return 'just now'
  if (ms < 90_000) return `${Math.round(ms / 1000)} s ago`
  if (ms < 90 * 60_000) return `${Math.round(ms / 60_000)} min ago`
  return `${Math.round(ms / 3_600_000)} h ago`
}

/** A Holochain timestamp (µs since the epoch) as a local time of day. */
export function time(micros: number): string {
  return new Date(micros / 1000).toLocaleTimeString([], { hourCycle: 'h23' })
}

export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
}

export function count(n: number | null | undefined, unit = ''): string {
  if (n === null || n === undefined) return '-'
  const text =
    n >= 1e9
      ? `${(n / 1e9).toFixed(1)}B`
      : n >= 1e6
        ? `${(n / 1e6).toFixed(1)}M`
        : n >= 1e3
          ? `${(n / 1e3).toFixed(1)}K`
          : String(n)
  return unit ? `${text} ${unit}` : text
}
