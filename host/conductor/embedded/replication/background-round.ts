/**
 * The neighbourhood round the replicator starts on its timer and does not await
 * (neighbourhood-upkeep.ts `round`): its failure is logged, never left an unhandled rejection, which
 * ends a Node process. A round still running when replication stops fails on the stopped node or the
 * closed store: expected, at debug; any other failure at warn.
 */
/** The two levels it logs at (a Logger has them). */
type RoundLogger = Record<'debug' | 'warn', (obj: object, msg: string) => void>

export function inBackground(round: Promise<unknown>, logger: RoundLogger, stopped: () => boolean): void {
  round.catch((err: unknown) => {
    if (stopped()) logger.debug({ err }, 'neighbourhood round ended by stop')
    else logger.warn({ err }, 'neighbourhood round failed')
  })
}
