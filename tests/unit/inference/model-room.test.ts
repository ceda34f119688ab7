/**
 * Room on demand: which loaded models a load that does not fit unloads, least recently used first, as
 * a table; then a real ModelManager and engine doing it, and refusing when only a busy model holds the room.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { freemem, tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileHashCache } from '../../../host/inference/file-hash-cache.ts'
import { TINY_MODEL, writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import { modelMemoryBytes } from '../../../host/inference/memory-fit.ts'
import { ModelManager, ModelTooLargeError } from '../../../host/inference/model-manager.ts'
import { holdersText, planRoom, type Resident } from '../../../host/inference/model-room.ts'
import { MemoryBudget } from '../../../host/interface/memory-budget.ts'
import { silentLogger } from '../../../host/log/logger.ts'

const MiB = 1024 ** 2
const model = (name: string, mib: number, lastUsedAt: number, busy = 0): Resident => ({
  name,
  bytes: mib * MiB,
  busy,
  lastUsedAt,
})
const coder = model('coder', 400, 1_000)
const chat = model('chat', 300, 3_000)
const embed = model('embed', 100, 2_000)

describe('planRoom', () => {
  it.each([
    ['fits already: nothing unloads', [coder, chat], 100, 200, []],
    ['the least recently used idle model first', [coder, chat, embed], 300, 0, ['coder']],
    ['as many as it takes, oldest first', [coder, chat, embed], 700, 100, ['coder', 'embed', 'chat']],
    ['counts what is free already', [coder, chat, embed], 450, 100, ['coder']],
    [
      'skips a busy model, however old',
      [model('coder', 400, 1_000, 2), chat, embed],
      350,
      0,
      ['embed', 'chat'],
    ],
  ] as const)('%s', (_, resident, needMiB, freeMiB, evict) => {
    expect(planRoom(resident, needMiB * MiB, freeMiB * MiB)).toEqual({ evict })
  })

  it('cannot make room when the busy models hold too much: it names every holder', () => {
    const busyCoder = model('coder', 400, 1_000, 1)
    const plan = planRoom([busyCoder, embed], 450 * MiB, 0)
    expect(plan).toEqual({ cannot: [busyCoder, embed] })
    expect(holdersText([busyCoder, embed])).toBe('coder (400 MiB, busy), embed (100 MiB)')
  })

  it('cannot when nothing is loaded and the load is larger than the room', () => {
    expect(planRoom([], 2 * MiB, MiB)).toEqual({ cannot: [] })
  })
})

describe('a ModelManager making room (real engine)', { timeout: 60_000 }, () => {
  it('unloads the least recently used idle model for a load, never a busy one (which a 507 names)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ripple-model-room-'))
    await writeLlamaModel(join(dir, 'coder.gguf'), { ...TINY_MODEL, seed: 1 })
    await writeLlamaModel(join(dir, 'chat.gguf'), { ...TINY_MODEL, seed: 2 })
    const init = { modelsDir: dir, hashCache: new FileHashCache(null), threads: 1, contextSize: 512 }
    const probe = new ModelManager({ ...init, logger: silentLogger() })
    const info = (await probe.list()).models[0]!
    // Room for one of the two, not both.
    const need = modelMemoryBytes(info, 512)
    const models = new ModelManager({
      ...init,
      budget: new MemoryBudget({ limitBytes: Math.round(need * 1.5), freeMemory: freemem }),
      logger: silentLogger(),
    })
    try {
      await models.load('coder')
      await models.load('chat')
      expect(models.loadedNames()).toEqual(['chat'])
      // Chat streams an answer while coder is asked for: nothing idle to unload, so it is refused.
      const { model } = await models.acquire('chat')
      let refusal: Promise<unknown> | undefined
      let busyWhenAnswered = 0
      const answered = (result: unknown) => {
        busyWhenAnswered = model.busy
        return result
      }
      await model.generate(
        { prompt: 'Once upon a time', max_tokens: 400, temperature: 0, seed: 1 },
        {
          onEvent: () => {
            refusal ??= models.load('coder').then(answered, answered)
          },
        },
      )
      const err = await refusal
      // Answered while the stream still ran (else chat was idle, and rightly unloaded).
      expect(busyWhenAnswered).toBe(1)
      expect(err).toBeInstanceOf(ModelTooLargeError)
      expect((err as Error).message).toMatch(/held by chat \(\d+ MiB, busy\)/)
      expect(models.loadedNames()).toEqual(['chat'])
    } finally {
      await models.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
