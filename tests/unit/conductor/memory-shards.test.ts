import { afterEach, describe, expect, it } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import type { Collection } from '../../../zomes-bindings/index.ts'
import { type Mesh, openMesh } from './fixtures/mesh-conductors.ts'

let mesh: Mesh | null = null
afterEach(async () => {
  await mesh?.close()
  mesh = null
})

const collection: Collection = {
  name: 'notes',
  dimension: 4,
  metric: 'cosine',
  shard_count: 2,
  replication: 2,
  embedding_model: 'none',
}

describe('memory_shards zome (with the Rust rules)', () => {
  it('lists collections, their announced holders and the latest snapshot of a shard on another peer', async () => {
    mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const ref = await a.callZome('memory_shards', 'create_collection', collection)
    await b.callZome('memory_shards', 'list_collections', null)
    mesh.sync()
    await b.callZome('memory_shards', 'announce_shard_holder', {
      collection: ref.action_hash,
      shard: 1,
      holder: b.agentPubKey,
    })
    for (const [taken_at, cid] of [
      [2000, 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'],
      [1000, 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4'],
    ] as const) {
      await b.callZome('memory_shards', 'publish_snapshot', {
        collection: ref.action_hash,
        shard: 1,
        cid,
        doc_count: 3,
        taken_at,
      })
    }
    mesh.sync()
    expect((await a.callZome('memory_shards', 'list_collections', null)).map((c) => c.entry)).toEqual([
      collection,
    ])
    const holders = await a.callZome('memory_shards', 'list_shard_holders', ref.action_hash)
    expect(holders.map((h) => [h.entry.shard, h.author])).toEqual([[1, b.agentPubKey]])
    const latest = await a.callZome('memory_shards', 'get_latest_snapshot', {
      collection: ref.action_hash,
      shard: 1,
    })
    expect(latest?.entry.taken_at).toBe(2000)
    expect(
      await a.callZome('memory_shards', 'get_latest_snapshot', { collection: ref.action_hash, shard: 0 }),
    ).toBeNull()
  })

  it('refuses a holder of a shard beyond the collection and one announced for another agent', async () => {
    mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    const ref = await a.callZome('memory_shards', 'create_collection', collection)
    await expect(
      a.callZome('memory_shards', 'announce_shard_holder', {
        collection: ref.action_hash,
        shard: 2,
        holder: a.agentPubKey,
      }),
    ).rejects.toThrow(/shard_out_of_range/)
    await expect(
      a.callZome('memory_shards', 'announce_shard_holder', {
        collection: ref.action_hash,
        shard: 0,
        holder: b.agentPubKey,
      }),
    ).rejects.toThrow(/shard_holder/)
    expect(await a.callZome('memory_shards', 'list_shard_holders', ref.action_hash)).toEqual([])
  })
})
