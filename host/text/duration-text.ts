/** A duration as a person reads it at a glance, to the second: `42s`, `4m 59s`, `2h 5m`. Shared by the CLI and the dashboard. */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
}
