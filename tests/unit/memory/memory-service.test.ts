/**
 * The memory service on one peer (a real embedded conductor with the Rust rules; the only peer, so
 * nothing goes over a transport: the one given refuses, and is never reached). The embedder stands
 * in for the `infer.embed` task (exercised for real in tests/e2e/memory-text.test.ts) so that a
 * model file can change under the same name.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { type Embedder, MemoryService } from '../../../host/memory/memory-service.ts'
import { type Mesh, openMesh } from '../conductor/fixtures/mesh-conductors.ts'

let mesh: Mesh | null = null
let service: MemoryService | null = null
let dir: string | null = null
afterEach(async () => {
  await service?.stop()
  await mesh?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
  service = mesh = dir = null
})

async function start(embed?: Embedder): Promise<MemoryService> {
  mesh = await openMesh(1)
  dir = await mkdtemp(join(tmpdir(), 'ripple-memory-service-'))
  return restart(embed)
}

/** A new service on the same peer and data dir (after the last one stopped). */
async function restart(embed?: Embedder): Promise<MemoryService> {
  const conductor = mesh!.conductors[0] as EmbeddedConductor
  service = new MemoryService({
    conductor,
    transport: {
      serve: async () => {},
      request: async () => {
        throw new Error('a single peer asks nobody else')
      },
      stop: async () => {},
    },
    dir: dir!,
    peers: async () => [{ agent: conductor.agentPubKey, load: 0, capacity: 2 ** 40 }],
    embed,
    reconcileIntervalMs: 50,
    logger: silentLogger(),
  })
  await service.start()
  return service
}

async function ready(memory: MemoryService, name: string): Promise<void> {
  await expect
    .poll(async () => (await memory.show(name)).shards.every((s) => s.here?.ready === true), {
      timeout: 10_000,
    })
    .toBe(true)
}

const base = { dimension: 3, metric: 'cosine', shard_count: 2, replication: 1 } as const

describe('MemoryService', () => {
  it('refuses a second collection of a name, and a batch with one bad document writes none (a new collection answers at once)', async () => {
    const memory = await start()
    await memory.create({ name: 'c', ...base, embedding_model: 'none' })
    await expect(memory.create({ name: 'c', ...base, embedding_model: 'none' })).rejects.toMatchObject({
      name: 'CollectionExistsError',
    })
    await expect(
      memory.upsert('c', [
        { id: 'a', vector: [1, 0, 0] },
        { id: 'b', vector: [0, 1, 0], metadata: { n: Number.NaN } },
      ]),
    ).rejects.toMatchObject({ name: 'InvalidMemoryInputError', field: 'docs.1.metadata.n' })
    expect((await memory.query('c', { vector: [1, 0, 0] })).hits).toEqual([])
    await memory.upsert('c', [{ id: 'a', vector: [1, 0, 0], metadata: { n: 1 } }])
    const answer = await memory.query('c', { vector: [1, 0.1, 0], k: 1 })
    expect(answer).toMatchObject({ hits: [{ id: 'a', metadata: { n: 1 } }], shards_missing: [] })
    expect(answer.shards_answered).toEqual([0, 1])
  })

  it('keeps every vector of a collection from one model file', async () => {
    let file = 'a'.repeat(64)
    const memory = await start(async (_model, texts) => ({
      vectors: texts.map((t) => [t.length, 1, 1]),
      file_hash: file,
    }))
    await memory.create({ name: 't', ...base, embedding_model: 'tiny' })
    await memory.upsert('t', [{ id: 'x', text: 'hello' }])
    file = 'b'.repeat(64)
    await expect(memory.upsert('t', [{ id: 'y', text: 'world' }])).rejects.toMatchObject({
      name: 'EmbeddingModelChangedError',
      field: 'text',
    })
    await expect(memory.query('t', { text: 'hello' })).rejects.toThrow(
      /vectors of two model files cannot be compared/,
    )
    file = 'a'.repeat(64)
    expect((await memory.query('t', { text: 'hello', k: 1 })).hits.map((h) => h.id)).toEqual(['x'])
  })

  it('keeps a collection’s model file across a restart, and moves in the pin file of the previous version', async () => {
    let file = 'a'.repeat(64)
    const embed: Embedder = async (_model, texts) => ({
      vectors: texts.map((t) => [t.length, 1, 1]),
      file_hash: file,
    })
    let memory = await start(embed)
    await memory.create({ name: 't', ...base, embedding_model: 'tiny' })
    await memory.create({ name: 'u', ...base, embedding_model: 'tiny' })
    await memory.upsert('t', [{ id: 'x', text: 'hello' }])
    const { action_hash } = await memory.show('u')
    await memory.stop()
    // As the previous version left it: `u` pinned to another file, in a side file of its own.
    const side = join(dir!, action_hash, 'embedding-model.json')
    await mkdir(join(dir!, action_hash), { recursive: true })
    await writeFile(side, JSON.stringify({ model: 'tiny', file_hash: 'c'.repeat(64) }))

    memory = await restart(embed)
    file = 'b'.repeat(64)
    for (const name of ['t', 'u'])
      await expect(memory.upsert(name, [{ id: 'y', text: 'world' }])).rejects.toMatchObject({
        name: 'EmbeddingModelChangedError',
      })
    expect(existsSync(side)).toBe(false)
    file = 'c'.repeat(64)
    expect(await memory.upsert('u', [{ id: 'y', text: 'world' }])).toMatchObject({ written: 1 })
    await memory.stop()
    memory = await restart(embed)
    expect((await memory.query('u', { text: 'world', k: 1 })).hits.map((h) => h.id)).toEqual(['y'])
  })

  it('moves a damaged shard store aside and starts that shard again, keeping the others', async () => {
    let memory = await start()
    await memory.create({ name: 'c', ...base, embedding_model: 'none' })
    await ready(memory, 'c')
    const docs = Array.from({ length: 20 }, (_, i) => ({ id: `d${i}`, vector: [1, i, 0] }))
    await memory.upsert('c', docs)
    const { action_hash, shards } = await memory.show('c')
    expect(shards[0]?.here?.docs).toBeGreaterThan(0)
    await memory.stop()
    const damaged = join(dir!, action_hash, '0')
    await writeFile(join(damaged, 'shard.sqlite'), 'this is not a SQLite database, not at all, not one bit')
    memory = await restart()
    await ready(memory, 'c')
    const after = await memory.show('c')
    expect(after.shards[0]?.here?.docs).toBe(0)
    expect(after.shards[1]?.here?.docs).toBe(shards[1]?.here?.docs)
    expect((await readdir(join(dir!, action_hash))).filter((f) => f.startsWith('0.damaged-'))).toHaveLength(1)
  })
})
