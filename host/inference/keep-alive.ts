/**
 * How long a loaded model stays loaded once idle (Ollama's `keep_alive`): memory fills with models
 * nobody asks for any more otherwise, and a team switching between models had to unload by hand.
 * Pure: the manager's sweep asks `unloadsAt` of every loaded model.
 */

/** Five minutes, as Ollama. */
export const DEFAULT_KEEP_ALIVE_MS = 5 * 60_000
/** A keep-alive of -1 (any negative): never unloaded for being idle. */
export const KEEP_FOREVER = Number.POSITIVE_INFINITY
/** The longest finite keep-alive (a week): a longer one is read as this (even one too large to count); -1 is for longer. */
export const MAX_KEEP_ALIVE_MS = 7 * 24 * 3_600_000
/**
 * The least a model stays after its last request, even at keep-alive 0 ("right after each request"):
 * a request that has its model in hand but has not reached the engine yet must find it loaded.
 */
export const MIN_IDLE_MS = 200

const UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

/** A keep-alive nobody can read. */
export class InvalidKeepAliveError extends Error {
  static override readonly name = 'InvalidKeepAliveError'
  constructor(value: unknown) {
    super(
      `keep_alive: ${JSON.stringify(value)} is no duration: give seconds (a number), a duration like "30s", "10m" or "1h", 0 (unload right after) or -1 (never)`,
    )
    this.name = 'InvalidKeepAliveError'
  }
}

/**
 * A keep-alive in ms: a number is seconds (Ollama's API), a string a duration ("500ms", "30s", "10m",
 * "1h", or bare seconds "90"); a negative one keeps the model forever.
 */
export function parseKeepAlive(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidKeepAliveError(value)
    return value < 0 ? KEEP_FOREVER : finite(value * 1000)
  }
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value)
  if (match === null) throw new InvalidKeepAliveError(value)
  const amount = Number(match[1])
  return amount < 0 ? KEEP_FOREVER : finite(amount * UNITS_MS[match[2] ?? 's']!)
}

/** A duration that is no "forever", however large: past the longest (1e306 s is Infinity in ms), the longest. */
function finite(ms: number): number {
  return Math.min(Math.round(ms), MAX_KEEP_ALIVE_MS)
}

/**
 * The keep-alive a model gets: what its last request asked (none: the operator's), up to the
 * operator's (`ripple up --keep-alive`), which no caller may exceed; a request may ask for less, and
 * for forever only where the operator keeps models forever.
 */
export function requestKeepAlive(requested: number | undefined, operator = DEFAULT_KEEP_ALIVE_MS): number {
  return Math.min(requested ?? operator, operator)
}

/** What the sweep knows of a loaded model. */
export interface IdleState {
  /** Requests running on it now. */
  busy: number
  /** When its last request started or ended (ms since the epoch). */
  lastUsedAt: number
  keepAliveMs: number
}

/** When an idle model unloads (ms since the epoch); null while a request runs, or when it is kept forever. */
export function unloadsAt(state: IdleState): number | null {
  if (state.busy > 0 || state.keepAliveMs === KEEP_FOREVER) return null
  return state.lastUsedAt + Math.max(state.keepAliveMs, MIN_IDLE_MS)
}

/** A model as `ripple models ls` and the dashboard show its keep-alive. */
export interface IdleView {
  loaded: boolean
  /** Loaded and idle since (ms since the epoch); null when not loaded or a request runs on it. */
  idle_since: number | null
  /** When it unloads for being idle (ms since the epoch); null when not loaded, busy, or kept forever. */
  unloads_at: number | null
}

/** The view of a model loaded (`model`) or not (null) under a keep-alive. */
export function idleView(model: Omit<IdleState, 'keepAliveMs'> | null, keepAliveMs: number): IdleView {
  if (model === null) return { loaded: false, idle_since: null, unloads_at: null }
  return {
    loaded: true,
    idle_since: model.busy > 0 ? null : model.lastUsedAt,
    unloads_at: unloadsAt({ ...model, keepAliveMs }),
  }
}
