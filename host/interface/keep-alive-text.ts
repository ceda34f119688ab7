/**
 * A loaded model's keep-alive as a person reads it, for the CLI and the dashboard alike (each with its
 * own way of writing a duration): busy, or idle for how long and when it unloads, or kept loaded.
 */
export interface KeepAliveState {
  /** Idle since (ms since the epoch); null while a request runs on it. */
  idle_since: number | null
  /** When its keep-alive unloads it (ms since the epoch); null when busy or kept forever. */
  unloads_at: number | null
}

export function keepAliveText(m: KeepAliveState, duration: (ms: number) => string, now = Date.now()): string {
  if (m.idle_since === null) return 'busy'
  const idle = `idle ${duration(now - m.idle_since)}`
  if (m.unloads_at === null) return `${idle}, kept loaded`
  return `${idle}, unloads in ${duration(Math.max(0, m.unloads_at - now))}`
}
