/**
 * Priority bands (issue 58, point 2): every request has one, interactive above agent above batch. A
 * request asks for one with its `x-ripple-priority` header, capped by its API key's setting (asked
 * higher, it gets the cap: an agent configured once keeps working under a key that allows less); with
 * no header it takes its key's setting, and the owner's own requests (the API token) take interactive.
 * A runner serves the higher band first and parks a lower band's generation for it (slot-turns.ts).
 */
import { z } from 'zod'

/** Lowest first. */
export const BANDS = ['batch', 'agent', 'interactive'] as const
export const BandSchema = z.enum(BANDS)
export type Band = z.infer<typeof BandSchema>

export const PRIORITY_HEADER = 'x-ripple-priority'

/** A key with no setting: its requests are an agent's, and it may ask for any band. */
export const KEY_BAND: Band = 'agent'

export function bandRank(band: Band): number {
  return BANDS.indexOf(band)
}

/** Whether `band` is above `other`. */
export function above(band: Band, other: Band): boolean {
  return bandRank(band) > bandRank(other)
}

export type BandChoice = { band: Band; capped: boolean } | { invalid: string }

/**
 * A request's band: its header's (one value of BANDS, any case), capped by its key's `cap`; else the
 * key's setting; the owner's (no key) interactive. A header that names no band is refused (a caller
 * that sets one means it).
 */
export function requestBand(
  header: string | string[] | undefined,
  key: { cap: Band | undefined } | null,
): BandChoice {
  const cap = key === null ? 'interactive' : (key.cap ?? 'interactive')
  const byDefault = key === null ? 'interactive' : (key.cap ?? KEY_BAND)
  if (header === undefined) return { band: byDefault, capped: false }
  const asked = BandSchema.safeParse(typeof header === 'string' ? header.trim().toLowerCase() : header)
  if (!asked.success)
    return {
      invalid: `${PRIORITY_HEADER} must be one of ${[...BANDS].reverse().join(', ')} (got ${JSON.stringify(header).slice(0, 40)})`,
    }
  return above(asked.data, cap) ? { band: cap, capped: true } : { band: asked.data, capped: false }
}
