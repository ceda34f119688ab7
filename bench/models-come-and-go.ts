/**
 * Models come and go (issue 35): the time to load a model when the memory limit first needs the least
 * recently used idle model unloaded, against the same load with room to spare (one ModelManager, this
 * process). The agent loops that show conversations staying home: conversation-affinity.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { freemem, tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileHashCache } from '../host/inference/file-hash-cache.ts'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { modelMemoryBytes } from '../host/inference/memory-fit.ts'
import { ModelManager } from '../host/inference/model-manager.ts'
import { MemoryBudget } from '../host/interface/memory-budget.ts'
import { silentLogger } from '../host/log/logger.ts'
import { median, round } from './measure.ts'
import type { BenchReport } from './report.ts'

const MODEL = { ...TINY_MODEL, blocks: 4, embedding: 256, heads: 4, feedForward: 512, name: 'bench loads' }

/** Load times (ms) of a model with room to spare, and of the same load after evicting an idle one. */
async function evictionLoads(): Promise<{ plain: number; evicting: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'ripple-bench-room-'))
  try {
    await writeLlamaModel(join(dir, 'coder.gguf'), { ...MODEL, seed: 1 })
    await writeLlamaModel(join(dir, 'chat.gguf'), { ...MODEL, seed: 2 })
    const init = {
      modelsDir: dir,
      hashCache: new FileHashCache(null),
      threads: 1,
      contextSize: 512,
      logger: silentLogger(),
    }
    const need = modelMemoryBytes((await new ModelManager(init).list()).models[0]!, 512)
    const limit = (bytes: number) => new MemoryBudget({ limitBytes: bytes, freeMemory: freemem })
    const roomy = new ModelManager({ ...init, budget: limit(need * 3) })
    const tight = new ModelManager({ ...init, budget: limit(Math.round(need * 1.5)) })
    const plain: number[] = []
    const evicting: number[] = []
    try {
      for (let i = 0; i < 3; i++) {
        await roomy.load('coder')
        let t = performance.now()
        await roomy.load('chat')
        plain.push(performance.now() - t)
        await roomy.unload('chat')
        await roomy.unload('coder')
        await tight.load('coder')
        t = performance.now()
        await tight.load('chat')
        evicting.push(performance.now() - t)
        await tight.unload('chat')
      }
    } finally {
      await roomy.stop()
      await tight.stop()
    }
    return { plain: median(plain), evicting: median(evicting) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export default async function run(): Promise<BenchReport> {
  const rows: BenchReport['rows'] = []
  const figures: BenchReport['figures'] = {}
  const loads = await evictionLoads()
  rows.push({ part: 'load with room to spare', 'load ms': round(loads.plain) })
  rows.push({ part: 'load after evicting the LRU idle model', 'load ms': round(loads.evicting) })
  figures.load_ms = round(loads.plain)
  figures.load_evicting_ms = round(loads.evicting)
  return {
    name: 'models-come-and-go',
    rows,
    figures,
    note:
      `Loads of a generated ${MODEL.blocks}-block model: one ModelManager, a limit that holds one model ` +
      '(evicting) or three (room), 3 runs each, medians.',
  }
}
