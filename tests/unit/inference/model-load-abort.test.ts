/**
 * A model load can be stopped: the llama-server it had started is gone by the time the load rejects,
 * nothing of it is kept, and the same model loads later. A load that another caller still waits on
 * goes on.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Progress } from '../../../host/interface/progress.ts'
import { workerModels } from '../../../host/node/worker-models.ts'
import { inferGenerateWorker } from '../../../host/workers/infer-generate.ts'
import { type ModelsFixture, modelsFixture } from './inference-fixtures.ts'

let fx: ModelsFixture
let modelPath: string

beforeAll(async () => {
  fx = await modelsFixture()
  modelPath = join(fx.dir, 'tiny.gguf')
})
afterAll(async () => {
  await fx.close()
})

/** Pids of the llama-server processes running this fixture's model (its path is unique to the test). */
function engines(): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('llama-server') && line.includes(modelPath))
    .map((line) => Number.parseInt(line, 10))
}

const greedy = { prompt: 'Hello', max_tokens: 4, temperature: 0, seed: 1 }

describe('stopping a model load', { timeout: 60_000 }, () => {
  it('ends the half-started llama-server, rejects with an AbortError, and loads again later', async () => {
    const stop = new AbortController()
    let running: number[] = []
    const progress: Progress[] = []
    // Stopped at llama.cpp's first progress: the server is up and reading weights, not ready yet.
    const loading = fx.manager.load('tiny', {
      signal: stop.signal,
      onProgress: (p) => {
        progress.push(p)
        if (stop.signal.aborted) return
        running = engines()
        stop.abort()
      },
    })
    const err = await loading.catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'AbortError' })
    expect(progress[0]).toMatchObject({ stage: 'load', total: 100, unit: 'percent' })
    expect(running).toHaveLength(1)
    expect(engines()).toEqual([])
    expect(fx.manager.loadedNames()).toEqual([])
    expect(fx.manager.slotsOf('tiny')).toBeNull()
    expect((await fx.manager.list()).models[0]?.loaded).toBe(false)

    const model = await fx.manager.load('tiny')
    expect((await model.generate(greedy)).generated_tokens).toBeGreaterThan(0)
    expect(engines()).toHaveLength(1)
    await fx.manager.unload('tiny')
    expect(engines()).toEqual([])
  })

  it('goes on for a caller that still waits when another gives up', async () => {
    const leaving = new AbortController()
    const left = fx.manager.load('tiny', { signal: leaving.signal, onProgress: () => leaving.abort() })
    const staying = fx.manager.load('tiny')
    await expect(left).rejects.toMatchObject({ name: 'AbortError' })
    const model = await staying
    expect(model.disposed).toBe(false)
    expect(fx.manager.loadedNames()).toEqual(['tiny'])
    await fx.manager.unload('tiny')
  })

  it('stops the load of a task that is cancelled meanwhile (no name: the only model)', async () => {
    const stop = new AbortController()
    const worker = inferGenerateWorker(workerModels(fx.manager))
    const run = worker.run(worker.input.parse({ prompt: 'Hi', max_tokens: 4 }), {
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'load') stop.abort()
      },
    })
    await expect(run).rejects.toMatchObject({ name: 'AbortError' })
    expect(engines()).toEqual([])
    expect(fx.manager.loadedNames()).toEqual([])
  })
})
