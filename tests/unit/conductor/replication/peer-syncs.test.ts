import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PeerSyncs } from '../../../../host/conductor/embedded/replication/peer-syncs.ts'

const INTERVAL_MS = 500

describe('anti-entropy as a peer connects', () => {
  let peer: PeerId
  let exchanged: string[]
  let whole: boolean
  let syncs: PeerSyncs

  beforeEach(async () => {
    vi.useFakeTimers()
    peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    exchanged = []
    whole = true
    syncs = new PeerSyncs({
      exchange: async (p) => {
        exchanged.push(p.toString())
        return whole
      },
      waiting: () => false,
      peersPerRound: 2,
      intervalMs: INTERVAL_MS,
    })
  })
  afterEach(() => vi.useRealTimers())

  it.each([
    // sharded, ms since the last exchange ended, exchanged again on connecting
    ['a team mesh exchanges on every connect', false, 1_000, true],
    ['sharded, a peer exchanged with a moment ago is left be', true, 1_000, false],
    ['sharded, one exchanged with 12 rounds ago is asked again', true, 12 * INTERVAL_MS, true],
  ])('%s', async (_name, sharded, sinceMs, again) => {
    await syncs.sync(peer)
    vi.advanceTimersByTime(sinceMs)
    await syncs.connected(peer, sharded)
    expect(exchanged.length).toBe(again ? 2 : 1)
  })

  it('sharded, an exchange that failed does not count as recent: the next connection asks again', async () => {
    whole = false
    await syncs.sync(peer)
    whole = true
    vi.advanceTimersByTime(1_000)
    await syncs.connected(peer, true)
    expect(exchanged.length).toBe(2)
    // That one ran whole: the one after is left be.
    await syncs.connected(peer, true)
    expect(exchanged.length).toBe(2)
  })

  it('a peer never exchanged with is asked on connecting, sharded or not', async () => {
    await syncs.connected(peer, true)
    expect(exchanged).toEqual([peer.toString()])
  })

  it('sharded, the exchange at a subscription is left out after a recent one', async () => {
    await syncs.sync(peer)
    syncs.subscribed(peer, true)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(exchanged.length).toBe(1)
    syncs.subscribed(peer, false)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(exchanged.length).toBe(2)
  })

  it('an exchange under way is not queued again by a connect or subscription (sharded) or by a round', async () => {
    let finish = () => {}
    const slow = new PeerSyncs({
      exchange: (p) => {
        exchanged.push(p.toString())
        return new Promise<boolean>((resolve) => {
          finish = () => resolve(true)
        })
      },
      waiting: () => false,
      peersPerRound: 2,
      intervalMs: INTERVAL_MS,
    })
    const done = slow.connected(peer, true)
    slow.subscribed(peer, true)
    await vi.advanceTimersByTimeAsync(1_000)
    slow.round([peer])
    finish()
    await done
    await vi.advanceTimersByTimeAsync(0)
    expect(exchanged).toEqual([peer.toString()])
    // A team mesh's subscription still queues one more behind it (what was published before it was seen).
    const again = slow.connected(peer, false)
    slow.subscribed(peer, false)
    await vi.advanceTimersByTimeAsync(1_000)
    finish()
    await vi.advanceTimersByTimeAsync(0)
    finish()
    await again
    expect(exchanged.length).toBe(3)
  })
})
