/**
 * The neighbourhood round replication starts on its timer and does not await (review of issue 57): one
 * that fails, here on the store closed under a running replication as a round still running at stop
 * finds it, is logged, never an unhandled rejection (which ends the daemon's process).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { expect, it } from 'vitest'
import { createEmbeddedPeer } from '../../host/conductor/embedded/replication/index.ts'
import { LOOPBACK_LISTEN, scenarioNetwork, waitUntil } from './harness.ts'

it('a neighbourhood round that fails is logged at warn, not left an unhandled rejection', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ripple-round-'))
  const lines: { level: number; msg: string }[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => void unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  const peer = await createEmbeddedPeer({
    dataDir,
    network: scenarioNetwork(),
    listen: LOOPBACK_LISTEN,
    mdnsInterface: '127.0.0.1',
    loopbackTuning: true,
    replication: { intervalMs: 100 },
    logger,
  })
  try {
    // Its rounds read the members from the store (whether sharded): each now fails.
    peer.conductor.store.close()
    await waitUntil(5_000, () => lines.some((l) => l.msg === 'neighbourhood round failed'))
    expect(lines.find((l) => l.msg === 'neighbourhood round failed')?.level).toBe(pino.levels.values.warn)
    expect(unhandled).toEqual([])
  } finally {
    process.off('unhandledRejection', onUnhandled)
    await peer.stop().catch(() => {})
    await rm(dataDir, { recursive: true, force: true })
  }
})
