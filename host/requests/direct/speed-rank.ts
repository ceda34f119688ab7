/**
 * The fastest healthy runner first. Takes the route plan's order (route-plan.ts: tiers, a
 * conversation's home, then free slots and fair turns) and, within each tier, puts the runners that
 * answer a model faster first: a new conversation goes to a runner with a slot free that is fast
 * before one that is slow, and to the slow one once the fast one is busy (its tier drops). Runners
 * within SPEED_STEP of each other count as equally fast and keep the plan's order, so load still
 * spreads over peers alike, and noise in the measures does not move every request. A runner not
 * measured yet ranks as fast as the fastest and first among them, so it gets tried. A conversation's
 * home keeps its place (its prompt cache is worth more than a faster start elsewhere). A runner whose
 * circuit breaker is open (circuit-breaker.ts) is passed over: it goes last, tried only when every
 * other one turned the request down. Pure: the plan and the figures in, the order out.
 */
import type { RouteCandidate } from './route-plan.ts'
import type { SpeedFigures } from './runner-speed.ts'

/** Runners whose expected answer times are within this ratio rank alike (a speed class). */
export const SPEED_STEP = 1.5
/** The answer length an estimate prices (tokens): what weighs first-token time against decode speed. */
export const REFERENCE_TOKENS = 256

export interface SpeedRankInput<C extends RouteCandidate> {
  /** planRoute's order. */
  candidates: readonly C[]
  /** What this peer holds of each candidate's speed at the model (runner-speed.ts). */
  figures: (agent: string) => SpeedFigures
  /** Whether a request may go to the runner now (its circuit breaker). */
  passable: (agent: string) => boolean
  /** The conversation's home, if any: it keeps the plan's place. */
  home?: string | null
}

export function rankBySpeed<C extends RouteCandidate>(input: SpeedRankInput<C>): C[] {
  const { candidates } = input
  const figures = candidates.map((c) => input.figures(c.agent))
  // A figure not known yet is taken as good as the best known.
  const ttfts = figures.flatMap((f) => (f.ttft_ms === null ? [] : [f.ttft_ms]))
  const rates = figures.flatMap((f) => (f.tokens_per_s === null ? [] : [f.tokens_per_s]))
  const bestTtft = ttfts.length > 0 ? Math.min(...ttfts) : 0
  const bestRate = rates.length > 0 ? Math.max(...rates) : null
  const expected = figures.map((f) => {
    const rate = f.tokens_per_s ?? bestRate
    return (f.ttft_ms ?? bestTtft) + (rate === null ? 0 : (REFERENCE_TOKENS * 1000) / Math.max(rate, 1e-3))
  })
  const best = Math.min(...expected)
  const classOf = (ms: number) =>
    best > 0 ? Math.max(0, Math.floor(Math.log(ms / best) / Math.log(SPEED_STEP) + 1e-9)) : 0
  // Unmeasured: tried first in its class, once, to be measured (else a slow runner measured first
  // would keep every request from a faster one never tried).
  const ranked = candidates.map((c, i) => {
    const known = figures[i]!.ttft_ms !== null || figures[i]!.tokens_per_s !== null
    return { c, i, speed: classOf(expected[i]!), known: Number(known) }
  })
  const homeAt = ranked.findIndex((r) => r.c.agent === input.home)
  const home = homeAt < 0 ? undefined : ranked.splice(homeAt, 1)[0]!
  ranked.sort((a, b) => a.c.tier - b.c.tier || a.speed - b.speed || a.known - b.known || a.i - b.i)
  if (home !== undefined) ranked.splice(homeAt, 0, home)
  const order = ranked.map((r) => r.c)
  return [...order.filter((c) => input.passable(c.agent)), ...order.filter((c) => !input.passable(c.agent))]
}
