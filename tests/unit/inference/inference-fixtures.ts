/** A models directory with generated models and a ModelManager over it, for the inference tests. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileHashCache } from '../../../host/inference/file-hash-cache.ts'
import {
  type LlamaModelOptions,
  TINY_MODEL,
  writeLlamaModel,
} from '../../../host/inference/gguf-gen/llama-generator.ts'
import { ModelManager } from '../../../host/inference/model-manager.ts'
import type { WorkerEvent } from '../../../host/interface/run-event.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import type { WorkerContext } from '../../../host/workers/worker.ts'

export interface ModelsFixture {
  dir: string
  manager: ModelManager
  /** Writes another file into the models directory. */
  add(name: string, bytes: Buffer): Promise<string>
  close(): Promise<void>
}

/**
 * A models dir holding `tiny.gguf`: the tiny generated model, or another one generated under that
 * name (e.g. another seed: other weights, other text); one thread, as tests share 2 cores.
 */
export async function modelsFixture(
  model: LlamaModelOptions = TINY_MODEL,
  contextSize = 2048,
): Promise<ModelsFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'ripple-models-'))
  await writeLlamaModel(join(dir, 'tiny.gguf'), model)
  const logger = silentLogger()
  const manager = new ModelManager({
    modelsDir: dir,
    hashCache: new FileHashCache(null),
    threads: 1,
    contextSize,
    logger,
  })
  return {
    dir,
    manager,
    async add(name, bytes) {
      const path = join(dir, name)
      await writeFile(path, bytes)
      return path
    },
    async close() {
      await manager.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A worker context that records its events; `abort` cancels the task. */
export function workerContext(): WorkerContext & { events: WorkerEvent[]; abort(): void } {
  const controller = new AbortController()
  const events: WorkerEvent[] = []
  return {
    signal: controller.signal,
    events,
    onEvent: (e) => events.push(e),
    abort: () => controller.abort(new Error('cancelled by the test')),
  }
}
