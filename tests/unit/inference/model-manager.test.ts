import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { writeGguf } from '../../../host/inference/gguf-gen/gguf-writer.ts'
import { llamaModelSpec } from '../../../host/inference/gguf-gen/llama-generator.ts'
import { ModelCatalogue } from '../../../host/inference/model-catalogue.ts'
import {
  type LayoutPlan,
  ModelLoadError,
  ModelNotFoundError,
  ModelUnusableError,
} from '../../../host/inference/model-manager.ts'
import { type ModelsFixture, modelsFixture } from './inference-fixtures.ts'

let fx: ModelsFixture

beforeAll(async () => {
  fx = await modelsFixture()
})
afterAll(async () => {
  await fx.close()
})

/** A tiny model's GGUF with some metadata changed. */
function tinyWith(change: (spec: ReturnType<typeof llamaModelSpec>) => void): Buffer {
  const spec = llamaModelSpec()
  change(spec)
  return writeGguf(spec)
}

const greedy = { prompt: 'Hello', max_tokens: 8, temperature: 0, seed: 1 }

describe('ModelManager', () => {
  it('lists the generated tiny model (under 1 MB) with its facts, not loaded', async () => {
    const { models, unusable } = await fx.manager.list()
    const bytes = await readFile(join(fx.dir, 'tiny.gguf'))
    expect(bytes.length).toBeLessThan(1024 * 1024)
    expect(unusable).toEqual([])
    expect(models).toEqual([
      expect.objectContaining({
        name: 'tiny',
        architecture: 'llama',
        quantisation: 'F32',
        context_length: 4096,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        loaded: false,
      }),
    ])
  })

  it('loads in an engine process (llama-server), once, and reports the change', async () => {
    const changed = vi.fn()
    const off = fx.manager.onChange(changed)
    const [a, b] = await Promise.all([fx.manager.load('tiny'), fx.manager.load('tiny')])
    off()
    expect(a).toBe(b)
    expect((await a.embed(['hello'])).dimension).toBe(64)
    expect(a.contextSize).toBe(2048)
    expect(a.threads).toBe(1)
    expect(changed).toHaveBeenCalledTimes(1)
    expect((await fx.manager.list()).models[0]?.loaded).toBe(true)
    expect(fx.manager.loadedNames()).toEqual(['tiny'])
  })

  it('refuses truncated, corrupt and incomplete files with the reason, and keeps working', async () => {
    const tiny = writeGguf(llamaModelSpec())
    await fx.add('cut.gguf', tiny.subarray(0, tiny.length - 1000))
    await fx.add('junk.gguf', Buffer.from('GGUF but nothing a parser could use'))
    await fx.add(
      'no-ff.gguf',
      tinyWith((s) => delete s.metadata['llama.feed_forward_length']),
    )
    // A head count of 0 passes a check for missing keys; llama-server refuses it only once started,
    // and in words about a tensor's shape.
    await fx.add(
      'zero-heads.gguf',
      tinyWith((s) => (s.metadata['llama.attention.head_count'] = { u32: 0 })),
    )
    const refusals = {
      cut: /^model "cut" cannot be loaded: truncated: tensor \S+ ends at byte \d+, the file has \d+ bytes$/,
      junk: /^model "junk" cannot be loaded: not a readable GGUF file/,
      'no-ff': /^model "no-ff" cannot be loaded: missing llama\.feed_forward_length$/,
      'zero-heads':
        /^model "zero-heads" cannot be loaded: llama\.attention\.head_count must be a positive integer, got 0$/,
    }
    for (const [name, message] of Object.entries(refusals)) {
      const err = await fx.manager.load(name).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ModelUnusableError)
      expect((err as Error).message).toMatch(message)
    }
    const { unusable } = await fx.manager.list()
    expect(unusable.map((u) => u.path.slice(fx.dir.length + 1)).sort()).toEqual([
      'cut.gguf',
      'junk.gguf',
      'no-ff.gguf',
      'zero-heads.gguf',
    ])
    // Still here, and still generating.
    const result = await (await fx.manager.load('tiny')).generate(greedy)
    expect(result.generated_tokens).toBeGreaterThanOrEqual(8)
  })

  it("gives llama.cpp's own reason for a file that passes the checks but does not load", async () => {
    await fx.add(
      'no-q.gguf',
      tinyWith((s) => {
        s.tensors = s.tensors.filter((t) => t.name !== 'blk.0.attn_q.weight')
      }),
    )
    // Refused by llama-server; the error keeps its name (the API maps errors by name).
    const err = await fx.manager.load('no-q').catch((e: unknown) => e)
    expect(err).toMatchObject({ name: ModelLoadError.name })
    expect((err as Error).message).toMatch(
      /^llama\.cpp failed to load model "no-q": .*blk\.0\.attn_q\.weight/,
    )
  })

  it('answers an unknown name with the models it has', async () => {
    const err = await fx.manager.load('nope').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ModelNotFoundError)
    expect((err as ModelNotFoundError).available).toEqual(['no-q', 'tiny'])
  })

  it('unloads: frees the model, reports the change, and a task loads it again on demand', async () => {
    const changed = vi.fn()
    const off = fx.manager.onChange(changed)
    const before = await fx.manager.load('tiny')
    expect(await fx.manager.unload('tiny')).toBe(true)
    expect(before.disposed).toBe(true)
    await expect(before.generate(greedy)).rejects.toMatchObject({ name: 'ModelUnloadedError' })
    expect(await fx.manager.unload('tiny')).toBe(false)
    expect((await fx.manager.list()).models.find((m) => m.name === 'tiny')?.loaded).toBe(false)
    const { model, loadMs } = await fx.manager.acquire('tiny')
    off()
    expect(model).not.toBe(before)
    expect(loadMs).toBeGreaterThan(0)
    expect(changed).toHaveBeenCalledTimes(2)
  })

  // Unloading ends the engine process under a running generation: its caller hears why, not a broken connection.
  it('stops a generation running on a model when the model is unloaded, and survives it', async () => {
    const pieces: string[] = []
    const running = (await fx.manager.load('tiny')).generate(
      { ...greedy, max_tokens: 2000 },
      {
        onEvent: (event) => event.type === 'token' && pieces.push(event.text),
      },
    )
    while (pieces.length < 3) await new Promise((resolve) => setTimeout(resolve, 5))
    const stopped = expect(running).rejects.toMatchObject({ name: 'ModelUnloadedError' })
    await fx.manager.unload('tiny')
    await stopped
  })

  it('reads the file once per load, plans once for the callers sharing it, and runs whole when the plan says so', async () => {
    await fx.manager.unload('tiny')
    // The catalogue reads the directory for every load (the manager's own `list` is the API's).
    const list = vi.spyOn(ModelCatalogue.prototype, 'list')
    const planned: string[] = []
    const plan: LayoutPlan = async (info) => {
      planned.push(info.name)
      return null
    }
    try {
      const [first, second] = await Promise.all([
        fx.manager.load('tiny', { plan }),
        fx.manager.load('tiny', { plan }),
      ])
      expect(second).toBe(first)
      expect(planned).toEqual(['tiny'])
      expect(list).toHaveBeenCalledTimes(1)
    } finally {
      list.mockRestore()
    }
  })

  it('gives a planned layout back when the load it was planned for fails', async () => {
    await fx.manager.unload('tiny')
    let released = 0
    const plan: LayoutPlan = async () => ({
      args: ['--no-such-engine-flag'],
      memoryBytes: 1,
      // Accounted for by the layout: the file is not blamed (nor quarantined).
      blame: async () => new Error('the layout failed'),
      release: async () => {
        released++
      },
    })
    await expect(fx.manager.load('tiny', { plan })).rejects.toThrow()
    expect(released).toBe(1)
    expect(fx.manager.loadedNames()).toEqual([])
    expect((await fx.manager.list()).unusable).not.toContainEqual(
      expect.objectContaining({ path: expect.stringContaining('tiny.gguf') }),
    )
  })
})
