/**
 * A split's share on a worker is memory the worker does not evict while the split lives: the worker
 * learns it from the head's heartbeats (which peers hold how many bytes), claims it on the peer's
 * memory budget, and its model manager counts it within `--model-memory`, so a load of its own never takes that room (nor can it unload the share,
 * which lives in the RPC worker).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { freemem, tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileHashCache } from '../../../host/inference/file-hash-cache.ts'
import { TINY_MODEL, writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import { modelMemoryBytes } from '../../../host/inference/memory-fit.ts'
import { ModelManager, ModelTooLargeError } from '../../../host/inference/model-manager.ts'
import { MemoryBudget } from '../../../host/interface/memory-budget.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { PeerView } from '../../../host/registry/peer-view.ts'
import type { Heartbeat } from '../../../zomes-bindings/index.ts'

const config = { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 5000 }
const beat = (splits: Heartbeat['splits']): Heartbeat =>
  ({ cpu_pct: 1, ram_pct: 1, gpu_pct: null, queue_depth: 0, splits }) as Heartbeat

describe('PeerView.heldForSplits', () => {
  it("lists this peer's shares in the splits live heads report, and forgets an offline head's", () => {
    const view = new PeerView('me', config)
    view.recordHeartbeat(
      'head-1',
      beat([
        {
          model: 'big',
          peers: [
            { agent: 'head-1', layers: 4, bytes: 500 },
            { agent: 'me', layers: 2, bytes: 300 },
          ],
        },
      ]),
      0,
    )
    view.recordHeartbeat(
      'head-2',
      beat([
        {
          model: 'huge',
          peers: [
            { agent: 'other', layers: 6, bytes: 900 },
            { agent: 'me', layers: 1, bytes: 100 },
          ],
        },
      ]),
      4_000,
    )
    view.recordHeartbeat('plain', beat(undefined), 4_000)
    expect(view.heldForSplits(4_000)).toEqual([
      { head: 'head-1', model: 'big', bytes: 300 },
      { head: 'head-2', model: 'huge', bytes: 100 },
    ])
    // head-1 went quiet: offline past 5 s, its split is over.
    expect(view.heldForSplits(6_000)).toEqual([{ head: 'head-2', model: 'huge', bytes: 100 }])
  })
})

describe('a worker holding a split share', () => {
  it('counts it within --model-memory: a load that would need that room is refused, the share untouched', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ripple-split-share-'))
    try {
      await writeLlamaModel(join(dir, 'tiny.gguf'), TINY_MODEL)
      const init = {
        modelsDir: dir,
        hashCache: new FileHashCache(null),
        threads: 1,
        contextSize: 512,
        logger: silentLogger(),
      }
      const need = modelMemoryBytes((await new ModelManager(init).list()).models[0]!, 512)
      let held = 0
      const budget = new MemoryBudget({ limitBytes: 2 * need, freeMemory: freemem })
      budget.claim('split shares', () => held)
      const models = new ModelManager({ ...init, budget })
      // Room for the model without the share (this machine has the memory free).
      expect(models.freeModelBytes()).toBeGreaterThan(need)
      held = Math.round(1.5 * need)
      expect(models.freeModelBytes()).toBeLessThanOrEqual(2 * need - held)
      const refused = await models.load('tiny').catch((err: unknown) => err)
      expect(refused).toBeInstanceOf(ModelTooLargeError)
      expect(models.loadedNames()).toEqual([])
      await models.stop()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
