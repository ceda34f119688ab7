/**
 * Each peer's load over the last minutes, kept from the heartbeats the peer view reports, so the
 * dashboard can draw it from its first event on.
 */
import type { ApiPeer, LoadSample } from '../contract/index.ts'

export const LOAD_HISTORY_MS = 10 * 60_000

export class LoadHistory {
  readonly #samples = new Map<string, LoadSample[]>()

  readonly #windowMs: number

  constructor(windowMs = LOAD_HISTORY_MS) {
    this.#windowMs = windowMs
  }

  /** Records each peer's latest heartbeat (once per heartbeat) and drops what fell out of the window. */
  record(peers: readonly ApiPeer[], now = Date.now()): void {
    const oldest = (now - this.#windowMs) * 1000
    for (const peer of peers) {
      if (peer.load === null) continue
      const samples = this.#samples.get(peer.agent) ?? []
      const { cpu_pct, ram_pct, gpu_pct, queue_depth, timestamp } = peer.load
      if (samples.at(-1)?.timestamp !== timestamp)
        samples.push({ cpu_pct, ram_pct, gpu_pct, queue_depth, timestamp })
      this.#samples.set(peer.agent, samples)
    }
    for (const [agent, samples] of this.#samples) {
      const kept = samples.filter((s) => s.timestamp >= oldest)
      if (kept.length === 0) this.#samples.delete(agent)
      else this.#samples.set(agent, kept)
    }
  }

  /** Oldest first, by agent. */
  snapshot(): Record<string, LoadSample[]> {
    return Object.fromEntries([...this.#samples].map(([agent, samples]) => [agent, [...samples]]))
  }
}
