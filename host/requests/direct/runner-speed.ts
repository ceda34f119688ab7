/**
 * How fast each runner answers this requester, per model: a moving average (EWMA) of the time to its
 * first token, as this peer measured it (the trip, any wait for a slot and the prompt's evaluation),
 * and of its decode speed, from the tokens and times the runner signed in the answer's leaf. Until
 * this peer has seen a runner answer a model, the runner's own recent figures (its heartbeat's
 * `speeds`) stand in; a runner neither measured nor advertising any is unknown, and ranks as fast as
 * the fastest, so it gets tried and measured. Measures older than a while give way to the advertised
 * figures again (a runner's load and hardware change). Pure: observations in, estimates out.
 */

/** Weight of the newest observation in the moving averages. */
export const EWMA_WEIGHT = 0.3
/** Own observations older than this give way to the runner's advertised figures. */
export const OBSERVED_TTL_MS = 10 * 60_000
export interface SpeedFigures {
  /** Milliseconds to the first token; null when not known. */
  ttft_ms: number | null
  /** Decode tokens a second; null when not known. */
  tokens_per_s: number | null
}

interface Observed extends SpeedFigures {
  /** When each figure was last observed (this peer's clock). */
  ttftAt: number
  decodeAt: number
}

const key = (agent: string, model: string) => `${model}\n${agent}`
const ewma = (old: number | null, value: number) => (old === null ? value : old + EWMA_WEIGHT * (value - old))

export class SpeedTable {
  readonly #observed = new Map<string, Observed>()

  /** This peer saw `agent`'s first token of `model` `ms` after sending it the request. */
  firstToken(agent: string, model: string, ms: number, now = Date.now()): void {
    if (!Number.isFinite(ms) || ms < 0) return
    const o = this.#entry(agent, model, now)
    o.ttft_ms = ewma(fresh(o.ttft_ms, o.ttftAt, now), ms)
    o.ttftAt = now
  }

  /** `agent` decoded `tokens` of `model` in `ms` (from its signed leaf). */
  decoded(agent: string, model: string, tokens: number, ms: number, now = Date.now()): void {
    if (!(tokens > 0) || !(ms > 0)) return
    const o = this.#entry(agent, model, now)
    o.tokens_per_s = ewma(fresh(o.tokens_per_s, o.decodeAt, now), (tokens * 1000) / ms)
    o.decodeAt = now
  }

  /** What this peer holds of `agent`'s speed at `model`: its own measures where fresh, else `advertised`. */
  figures(agent: string, model: string, advertised?: SpeedFigures | null, now = Date.now()): SpeedFigures {
    const o = this.#observed.get(key(agent, model))
    return {
      ttft_ms: fresh(o?.ttft_ms ?? null, o?.ttftAt ?? 0, now) ?? advertised?.ttft_ms ?? null,
      tokens_per_s: fresh(o?.tokens_per_s ?? null, o?.decodeAt ?? 0, now) ?? advertised?.tokens_per_s ?? null,
    }
  }

  #entry(agent: string, model: string, now: number): Observed {
    let o = this.#observed.get(key(agent, model))
    if (o === undefined) {
      o = { ttft_ms: null, tokens_per_s: null, ttftAt: now, decodeAt: now }
      this.#observed.set(key(agent, model), o)
    }
    return o
  }
}

function fresh(value: number | null, at: number, now: number): number | null {
  return value !== null && now - at < OBSERVED_TTL_MS ? value : null
}
