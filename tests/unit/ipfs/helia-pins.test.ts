/**
 * Pin changes on the embedded Helia store, several at once, as a person and the replication keeper
 * make them on one peer: none fails, and a block two artifacts share stays until both are released,
 * however often either was pinned and unpinned before (Helia 7.1's unpin left its records wrong).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startHeliaStore } from '../../../host/ipfs/helia-store.ts'
import type { IpfsStore } from '../../../host/ipfs/ipfs-store.ts'
import { kuboDeterministicBytes } from '../../fixtures/kubo-deterministic-bytes.ts'

const CHUNK = 1_048_576 // unixfs-v1-2025's chunk: raw leaves, so equal chunks are one block

async function* concat(...parts: AsyncIterable<Uint8Array>[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield* part
}

async function length(source: AsyncIterable<Uint8Array>): Promise<number> {
  let total = 0
  for await (const chunk of source) total += chunk.length
  return total
}

describe('pins on the Helia store', () => {
  let dir: string
  let node: Libp2p
  let store: IpfsStore

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ripple-pins-'))
    node = await createLibp2p({})
    store = await startHeliaStore({ libp2p: node, dir })
  })
  afterEach(async () => {
    await store.stop()
    await node.stop()
    await rm(dir, { recursive: true, force: true })
  })

  /** Two two-chunk artifacts whose first chunk is the same block. */
  async function sharingArtifacts(seed: string) {
    const shared = () => kuboDeterministicBytes(CHUNK, `${seed}-shared`)
    const add = (own: string) =>
      store.add(concat(shared(), kuboDeterministicBytes(CHUNK, `${seed}-${own}`)), {
        profile: 'unixfs-v1-2025',
      })
    return [await add('a'), await add('b')] as const
  }

  it('takes the same CID pinned many times at once, and one unpin releases it', async () => {
    const cid = await store.add(kuboDeterministicBytes(4 * CHUNK, 'pins-same'), { profile: 'unixfs-v1-2025' })
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => store.pin(cid)))
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    expect(await store.isPinned(cid)).toBe(true)
    await store.unpin(cid)
    expect(await store.isPinned(cid)).toBe(false)
  })

  it('keeps a block two artifacts share while either is pinned, through pins and unpins at once', async () => {
    const [a, b] = await sharingArtifacts('pins')
    await Promise.all([store.pin(a), store.pin(b), store.pin(a), store.pin(b)])
    await Promise.all([store.unpin(a), store.pin(b)])
    await store.gc()
    expect(await store.isPinned(b)).toBe(true)
    // Every block of b is still here: read whole without the network (which would wait for ever).
    expect(await length(store.cat(b, { signal: AbortSignal.timeout(5_000) }))).toBe(2 * CHUNK)
  })

  it('keeps the shared block of an artifact unpinned and pinned again, once the other is released', async () => {
    const [a, b] = await sharingArtifacts('pins-again')
    await store.pin(a)
    await store.pin(b)
    await store.unpin(b)
    await store.pin(b)
    await store.unpin(a)
    await store.gc()
    expect(await store.isPinned(b)).toBe(true)
    expect(await length(store.cat(b, { signal: AbortSignal.timeout(5_000) }))).toBe(2 * CHUNK)
    // And released in turn, nothing of either is left behind the pins.
    await store.unpin(b)
    await store.gc()
    await expect(length(store.cat(b, { signal: AbortSignal.timeout(500) }))).rejects.toThrow()
  })
})
