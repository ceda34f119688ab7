/**
 * When the memory service reads the mesh's collections (memory-service.ts, `DueRead`): where the
 * backend says when memory_shards ops were stored, a placement check reads them again only then (or
 * after `rereadMs`), not at every check; a collection written elsewhere is still taken up as soon as
 * its ops arrive. Two real embedded conductors; this peer is the only one placement counts.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { MemoryService } from '../../../host/memory/memory-service.ts'
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

describe('the memory placement check where stored ops are told', () => {
  it('reads the collections only when told, and takes up one written elsewhere as soon as it is told', async () => {
    mesh = await openMesh(2)
    const [a, b] = mesh.conductors as [EmbeddedConductor, EmbeddedConductor]
    dir = await mkdtemp(join(tmpdir(), 'ripple-memory-rereads-'))
    let stored: (() => void) | null = null
    const reads = vi.spyOn(a, 'callZome')
    const listReads = () => reads.mock.calls.filter(([, fn]) => fn === 'list_collections').length
    service = new MemoryService({
      conductor: a,
      transport: {
        serve: async () => {},
        request: () => Promise.reject(new Error('alone')),
        stop: async () => {},
      },
      dir,
      peers: async () => [{ agent: a.agentPubKey, load: 0, capacity: 2 ** 40 }],
      reconcileIntervalMs: 50,
      onRecordsStored: (_, listener) => {
        stored = listener
        return () => undefined
      },
      rereadMs: 3_600_000,
      logger: silentLogger(),
    })
    await service.start()
    // Twenty checks (50 ms apart) with nothing told: the collections were read once, at the first.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(listReads()).toBe(1)
    const collection = {
      name: 'far',
      dimension: 3,
      metric: 'cosine' as const,
      shard_count: 2,
      replication: 1,
    }
    await b.callZome('memory_shards', 'create_collection', { ...collection, embedding_model: 'none' })
    mesh.sync()
    expect(service.shardsHeld()).toBe(0)
    stored!()
    await expect.poll(() => service!.shardsHeld(), { timeout: 2_000 }).toBe(2)
  })
})
