/**
 * This machine's clock where a wrong one matters to other peers: the time its chains' actions carry, an
 * invite checked before joining, a witness's time of a redemption. Tests play a machine whose clock is
 * set back with libfaketime around the whole process, so nothing here is shifted.
 */

/** Microseconds since the epoch, as Holochain's `sys_time`: entries' times, deadlines, warrants. */
export const nowMicros = (): number => Date.now() * 1000

/** Milliseconds since the epoch, as this machine's clock says. */
export const nowMs = (): number => Date.now()
