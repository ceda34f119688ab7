/**
 * This machine's clock where a wrong one matters to other peers: the time its chains' actions carry, an
 * invite checked before joining, a witness's time of a redemption. RIPPLE_TEST_CLOCK_OFFSET_MS shifts it
 * by that many milliseconds: for tests only, standing in for libfaketime (not installed where the tests
 * run) to play a machine whose clock is set back or ahead.
 */
export const CLOCK_OFFSET_ENV = 'RIPPLE_TEST_CLOCK_OFFSET_MS'

const offsetMs = Number(process.env[CLOCK_OFFSET_ENV] ?? 0) || 0

/** Microseconds since the epoch, as Holochain's `sys_time`: entries' times, deadlines, warrants (never shifted). */
export const nowMicros = (): number => Date.now() * 1000

/** Milliseconds since the epoch, as this machine's clock says. */
export const nowMs = (): number => Date.now() + offsetMs

/** Microseconds since the epoch (action timestamps); null when the clock is not shifted (the default). */
export const shiftedNowUs: (() => number) | null = offsetMs === 0 ? null : () => nowMs() * 1000
