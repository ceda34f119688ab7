import { getEventListeners } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { emptyResult } from '../../../../host/conductor/embedded/replication/ingest-result.ts'
import {
  decodePush,
  encodePush,
  MAX_PUSHED_OPS,
  noPushes,
  OpPusher,
  PUSH_RETRY_DELAYS_MS,
  pushHandler,
  RECORD_PUSH_PROTOCOL,
} from '../../../../host/conductor/embedded/replication/op-push.ts'
import type { OpBatch } from '../../../../host/conductor/embedded/replication/op-wire.ts'
import { encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'
import { peerIdOfAgent } from '../../../../host/identity/peer-agent.ts'
import { silentLogger } from '../../../../host/log/logger.ts'
import { PeerUnreachableError } from '../../../../host/net/errors.ts'

const agent = encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(7), 'agent'))
const op = { action: Uint8Array.of(1, 2), signature: new Uint8Array(64).fill(3), entry: null }
const batch: OpBatch = { dnaHash: new Uint8Array(39).fill(9), ops: [op, { ...op, entry: Uint8Array.of(4) }] }

describe('record push wire', () => {
  it('carries a batch of ops and refuses one over the bound', () => {
    expect(decodePush(encodePush(batch))).toEqual(batch)
    const over = { ...batch, ops: Array.from({ length: MAX_PUSHED_OPS + 1 }, () => op) }
    expect(() => decodePush(encodePush(over))).toThrow(/too many ops/)
  })

  it('ingests what is pushed and acknowledges it once taken in, not otherwise', async () => {
    const seen: OpBatch[] = []
    const handler = pushHandler((b) => {
      seen.push(b)
      const result = emptyResult()
      result.counts.stored = b.ops.length
      return result
    })
    expect((await handler(encodePush(batch), peerIdOfAgent(agent))).length).toBeGreaterThan(0)
    expect(seen).toEqual([batch])
    await expect(pushHandler(() => null)(encodePush(batch), peerIdOfAgent(agent))).rejects.toThrow(
      /not taken in/,
    )
  })
})

describe('pusher', () => {
  const unreachable = () => new PeerUnreachableError(peerIdOfAgent(agent), 'gone')

  it('asks a holder that did not acknowledge again, a few times, then leaves it to anti-entropy', async () => {
    const asked: string[] = []
    const waits: number[] = []
    const pusher = new OpPusher({
      rpc: {
        request: async (_peer, protocol) => {
          asked.push(protocol)
          throw unreachable()
        },
      },
      logger: silentLogger(),
      signal: new AbortController().signal,
      sleep: async (ms) => {
        waits.push(ms)
      },
    })
    expect(await pusher.push(agent, batch)).toBe(false)
    expect(asked).toEqual(Array(PUSH_RETRY_DELAYS_MS.length + 1).fill(RECORD_PUSH_PROTOCOL))
    expect(waits).toEqual([...PUSH_RETRY_DELAYS_MS])
    expect(pusher.stats).toEqual({ ...noPushes(), sent: 1, failed: 1 })
  })

  it('stops at the first acknowledgement, counting one push sent and acked, its ops received and kept', async () => {
    let tries = 0
    // One replicator's counters, shared by its pusher and its handler (here one pushes to the other).
    const stats = noPushes()
    // Of the two ops, one stored, one not this peer's to keep.
    const handler = pushHandler(
      () => ({ ...emptyResult(), counts: { ...emptyResult().counts, stored: 1, ignored: 1 } }),
      stats,
    )
    const pusher = new OpPusher({
      stats,
      rpc: {
        request: async (peer, _protocol, bytes) => {
          if (tries++ === 0) throw unreachable()
          return handler(bytes, peer)
        },
      },
      logger: silentLogger(),
      signal: new AbortController().signal,
      sleep: async () => {},
    })
    expect(await pusher.push(agent, batch)).toBe(true)
    expect(tries).toBe(2)
    expect(stats).toEqual({ sent: 1, acked: 1, failed: 0, opsReceived: batch.ops.length, opsKept: 1 })
    expect(pusher.stats).toBe(stats)
  })

  it('leaves no listener on the replication signal once its retries are done', async () => {
    vi.useFakeTimers()
    try {
      const signal = new AbortController().signal
      const rpc = {
        request: async () => {
          throw new PeerUnreachableError(peerIdOfAgent(agent), 'gone')
        },
      }
      const pusher = new OpPusher({ rpc, logger: silentLogger(), signal })
      const pushed = pusher.push(agent, batch)
      await vi.runAllTimersAsync()
      expect(await pushed).toBe(false)
      expect(getEventListeners(signal, 'abort')).toHaveLength(0)
    } finally {
      vi.useRealTimers()
    }
  })
})
