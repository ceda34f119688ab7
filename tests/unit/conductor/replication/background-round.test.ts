import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { inBackground } from '../../../../host/conductor/embedded/replication/background-round.ts'

/** A logger that notes each line at its level. */
function noted() {
  const lines: [level: string, msg: string][] = []
  return {
    lines,
    debug: (_: unknown, msg: string) => void lines.push(['debug', msg]),
    warn: (_: unknown, msg: string) => void lines.push(['warn', msg]),
  }
}

const settled = () => new Promise((resolve) => setImmediate(resolve))

describe('a neighbourhood round run in the background', () => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => void unhandled.push(reason)
  beforeEach(() => void process.on('unhandledRejection', onUnhandled))
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled)
    unhandled.length = 0
  })

  it('that fails once replication stopped (the store closed under it) is logged at debug, not thrown', async () => {
    const logger = noted()
    inBackground(Promise.reject(new TypeError('The database connection is not open')), logger, () => true)
    await settled()
    expect(logger.lines).toEqual([['debug', 'neighbourhood round ended by stop']])
    expect(unhandled).toEqual([])
  })

  it('that fails while replication runs is logged at warn, not thrown', async () => {
    const logger = noted()
    inBackground(Promise.reject(new Error('a push failed')), logger, () => false)
    await settled()
    expect(logger.lines).toEqual([['warn', 'neighbourhood round failed']])
    expect(unhandled).toEqual([])
  })

  it('that ends well logs nothing', async () => {
    const logger = noted()
    inBackground(Promise.resolve(3), logger, () => false)
    await settled()
    expect(logger.lines).toEqual([])
  })
})
