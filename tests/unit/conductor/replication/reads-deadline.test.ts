/**
 * A zome call's reads from holders under one deadline (issue 57's review): a peer cut off from every
 * holder fails the call with ReadsTimedOutError once the deadline passes, and the gets in flight are
 * aborted, instead of waiting for each holder's own timeout, one holder after another.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { ReadsTimedOutError } from '../../../../host/conductor/embedded/errors.ts'
import { HolderGet, type HolderGetInit } from '../../../../host/conductor/embedded/replication/holder-get.ts'
import { HolderLists } from '../../../../host/conductor/embedded/replication/holder-lists.ts'
import { zomeReads } from '../../../../host/conductor/embedded/replication/zome-reads.ts'
import { encodeHashB64 } from '../../../../host/identity/hash.ts'
import { agentOfPeerB64 } from '../../../../host/identity/peer-agent.ts'
import { PeerUnreachableError } from '../../../../host/net/errors.ts'
import { openNotesCell, type TestCell, tempDir } from '../fixtures/test-cell.ts'

/** How long each holder takes to fail, as a dial to a peer across a partition does. */
const HOLDER_FAILS_MS = 300
const HOLDERS = 8
const DEADLINE_MS = 500

/** A request to a holder across the partition: fails after HOLDER_FAILS_MS, sooner if aborted. */
function partitioned(requests: { aborted: number; asked: number }) {
  return {
    request: (peer: PeerId, _protocol: string, _request: Uint8Array, options: { signal?: AbortSignal }) =>
      new Promise<Uint8Array>((_, reject) => {
        requests.asked++
        const abort = () => {
          clearTimeout(timer)
          requests.aborted++
          reject(options.signal!.reason)
        }
        const timer = setTimeout(() => {
          options.signal?.removeEventListener('abort', abort)
          reject(new PeerUnreachableError(peer, 'dial timed out'))
        }, HOLDER_FAILS_MS)
        options.signal?.addEventListener('abort', abort)
      }),
  }
}

async function strangers(n: number): Promise<string[]> {
  const keys = await Promise.all(Array.from({ length: n }, () => generateKeyPair('Ed25519')))
  return keys.map((key) => agentOfPeerB64(peerIdFromPrivateKey(key))!)
}

describe("a zome call's reads from holders", () => {
  it('fail with ReadsTimedOutError at the deadline when no holder can be reached, the gets aborted', async () => {
    const requests = { aborted: 0, asked: 0 }
    const others = await strangers(HOLDERS)
    const opened: { tc?: TestCell } = {}
    const init: HolderGetInit = {
      rpc: partitioned(requests) as never,
      conductor: {
        get agentPubKey() {
          return encodeHashB64(opened.tc!.cell.agentPubKey)
        },
        get store() {
          return opened.tc!.store
        },
        cell: () => opened.tc!.cell,
      },
      replication: { warrantAuthor: () => {}, isWarranted: () => false, isRevoked: () => false },
      // This peer is none of the holders.
      members: () => others,
      holders: HOLDERS,
    }
    const reads = zomeReads({
      conductor: init.conductor,
      holderGet: new HolderGet(init),
      holderLists: new HolderLists(init),
      members: init.members,
      holders: HOLDERS,
      sharded: () => true,
    })
    const tc = await openNotesCell(await tempDir(), { readsDeadlineMs: DEADLINE_MS, remote: reads })
    opened.tc = tc
    const far = tc.cell.chain.head.hash.slice()
    far[far.length - 5]! ^= 1
    const started = Date.now()
    const read = tc.cell.read((hdk) => hdk.get_links(far, 'Tagged'))
    await expect(read).rejects.toBeInstanceOf(ReadsTimedOutError)
    const took = Date.now() - started
    // Before: each of the holders failed in turn (8 x 300 ms) and the call answered no links.
    expect(took).toBeLessThan(DEADLINE_MS + HOLDER_FAILS_MS)
    // The second holder's request was in flight: aborted, no third asked.
    expect(requests).toEqual({ asked: 2, aborted: 1 })
    tc.store.close()
  })
})
