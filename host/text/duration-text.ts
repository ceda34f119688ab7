/**
 * A duration as a person reads it at a glance, to the second: `42s`, `4m 59s`, `30m`, `2h 5m`, `24h`
 * (a zero second or minute left out). Shared by the CLI and the dashboard.
 */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  const [big, small] =
    s < 3600 ? [`${Math.floor(s / 60)}m`, s % 60] : [`${Math.floor(s / 3600)}h`, Math.floor((s % 3600) / 60)]
  const unit = s < 3600 ? 's' : 'm'
  return small === 0 ? big : `${big} ${small}${unit}`
}
