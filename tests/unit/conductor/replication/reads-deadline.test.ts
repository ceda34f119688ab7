/**
 * A zome call's reads from holders under one deadline (issue 57's review): a peer cut off from every
 * holder fails the call with ReadsTimedOutError once the deadline passes, and the gets in flight are
 * aborted, instead of waiting for each holder's own timeout, one holder after another. And under its
 * caller's signal: an API request whose client goes away stops the call's gets at once, and the call
 * fails with the abort, not at the deadline.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { ApiServer } from '../../../../host/api/api-server.ts'
import { ReadsTimedOutError } from '../../../../host/conductor/embedded/errors.ts'
import { HolderGet, type HolderGetInit } from '../../../../host/conductor/embedded/replication/holder-get.ts'
import { HolderLists } from '../../../../host/conductor/embedded/replication/holder-lists.ts'
import { zomeReads } from '../../../../host/conductor/embedded/replication/zome-reads.ts'
import { encodeHashB64 } from '../../../../host/identity/hash.ts'
import { agentOfPeerB64 } from '../../../../host/identity/peer-agent.ts'
import type { ConductorPort } from '../../../../host/interface/conductor-port.ts'
import { PeerUnreachableError } from '../../../../host/net/errors.ts'
import { baseInit } from '../../api/fixtures.ts'
import { openNotesCell, type TestCell, tempDir } from '../fixtures/test-cell.ts'

/** How long each holder takes to fail, as a dial to a peer across a partition does. */
const HOLDER_FAILS_MS = 300
const HOLDERS = 8
const DEADLINE_MS = 500

interface Requests {
  aborted: number
  asked: number
}

/** A request to a holder across the partition: fails after HOLDER_FAILS_MS, sooner if aborted. */
function partitioned(requests: Requests) {
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

/** A cell whose reads of what it does not hold go to HOLDERS holders across a partition, and such a read. */
async function cutOffCell(readsDeadlineMs: number) {
  const requests: Requests = { aborted: 0, asked: 0 }
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
  const tc = await openNotesCell(await tempDir(), { readsDeadlineMs, remote: reads })
  opened.tc = tc
  const far = tc.cell.chain.head.hash.slice()
  far[far.length - 5]! ^= 1
  /** The links on a base this peer does not hold: every holder asked in turn. */
  const readFar = (signal?: AbortSignal) => tc.cell.read((hdk) => hdk.get_links(far, 'Tagged'), '-', signal)
  return { tc, requests, readFar }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("a zome call's reads from holders", () => {
  it('fail with ReadsTimedOutError at the deadline when no holder can be reached, the gets aborted', async () => {
    const { tc, requests, readFar } = await cutOffCell(DEADLINE_MS)
    const started = Date.now()
    await expect(readFar()).rejects.toBeInstanceOf(ReadsTimedOutError)
    const took = Date.now() - started
    // Before: each of the holders failed in turn (8 x 300 ms) and the call answered no links.
    expect(took).toBeLessThan(DEADLINE_MS + HOLDER_FAILS_MS)
    // The second holder's request was in flight: aborted, no third asked.
    expect(requests).toEqual({ asked: 2, aborted: 1 })
    tc.store.close()
  })

  it('stop when the API request that made the call goes away: no holder asked after, the call fails with the abort', async () => {
    // A deadline far off: only the client going away can end these reads early.
    const { tc, requests, readFar } = await cutOffCell(30_000)
    const ended: Promise<unknown>[] = []
    const conductor: Pick<ConductorPort, 'callZome'> = {
      callZome: (async (_dna: string, _fn: string, _payload: unknown, options?: { signal?: AbortSignal }) => {
        const read = readFar(options?.signal)
        ended.push(
          read.then(
            () => null,
            (err: unknown) => err,
          ),
        )
        return read
      }) as ConductorPort['callZome'],
    }
    const server = new ApiServer(baseInit({ token: 'the-token', components: { conductor } }))
    await server.start()
    try {
      const client = new AbortController()
      const asked = fetch(`${server.url}/api/zome/agent_registry/list_nodes`, {
        method: 'POST',
        headers: { authorization: 'Bearer the-token' },
        signal: client.signal,
      })
      // Mid-read: the first holder is being asked.
      await expect.poll(() => requests.asked, { timeout: 5_000, interval: 10 }).toBe(1)
      const abortedAt = Date.now()
      client.abort()
      await expect(asked).rejects.toThrow()
      expect(ended).toHaveLength(1)
      const err = (await ended[0]) as Error
      expect(err).not.toBeInstanceOf(ReadsTimedOutError)
      expect(err.name).toBe('AbortError')
      expect(Date.now() - abortedAt).toBeLessThan(HOLDER_FAILS_MS)
      // The holder in flight was aborted, and none asked after: without the signal, the next holder
      // would be asked every HOLDER_FAILS_MS until the deadline.
      await sleep(3 * HOLDER_FAILS_MS)
      expect(requests).toEqual({ asked: 1, aborted: 1 })
    } finally {
      await server.stop()
      tc.store.close()
    }
  })
})
