/**
 * Models come and go by themselves: a keep-alive (Ollama's) read from what people and agents write,
 * when an idle model unloads, and a real ModelManager with a real engine unloading a model idle past
 * its keep-alive, never one a request is streaming on, and following a request's own keep-alive.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FileHashCache } from '../../../host/inference/file-hash-cache.ts'
import { TINY_MODEL, writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import {
  DEFAULT_KEEP_ALIVE_MS,
  InvalidKeepAliveError,
  idleView,
  KEEP_FOREVER,
  MAX_KEEP_ALIVE_MS,
  MIN_IDLE_MS,
  parseKeepAlive,
  requestKeepAlive,
  unloadsAt,
} from '../../../host/inference/keep-alive.ts'
import { ModelManager } from '../../../host/inference/model-manager.ts'
import { keepAliveText } from '../../../host/interface/keep-alive-text.ts'
import { silentLogger } from '../../../host/log/logger.ts'

describe('parseKeepAlive', () => {
  it.each([
    ['5m', 300_000],
    ['30s', 30_000],
    ['1h', 3_600_000],
    ['500ms', 500],
    ['90', 90_000],
    ['1.5m', 90_000],
    [' 10m ', 600_000],
    ['0', 0],
    [0, 0],
    [45, 45_000],
    [0.25, 250],
    ['-1', KEEP_FOREVER],
    [-1, KEEP_FOREVER],
    ['-5m', KEEP_FOREVER],
    // Past the longest, the longest: never "forever", even where the ms overflow to Infinity.
    ['1000h', MAX_KEEP_ALIVE_MS],
    [1e306, MAX_KEEP_ALIVE_MS],
    [Number.MAX_VALUE, MAX_KEEP_ALIVE_MS],
    ['9'.repeat(400), MAX_KEEP_ALIVE_MS],
  ] as const)('%j is %d ms', (value, ms) => {
    expect(parseKeepAlive(value)).toBe(ms)
  })

  it.each(['', 'soon', '5 minutes', '5d', 'm5', Number.NaN, Number.POSITIVE_INFINITY] as const)(
    'refuses %j, saying what it takes',
    (value) => {
      expect(() => parseKeepAlive(value)).toThrow(InvalidKeepAliveError)
      expect(() => parseKeepAlive(value)).toThrow(/give seconds \(a number\), a duration like "30s"/)
    },
  )

  it('defaults to five minutes, as Ollama', () => {
    expect(DEFAULT_KEEP_ALIVE_MS).toBe(300_000)
  })
})

describe("requestKeepAlive: the operator's keep-alive is the ceiling", () => {
  it.each([
    ["less than the operator's", 30_000, 300_000, 30_000],
    ['0, right after', 0, 300_000, 0],
    ["more than the operator's", 3_600_000, 300_000, 300_000],
    ['forever, the operator keeping 5 min', KEEP_FOREVER, 300_000, 300_000],
    ['forever, the operator keeping forever', KEEP_FOREVER, KEEP_FOREVER, KEEP_FOREVER],
    ['a week, the operator keeping forever', MAX_KEEP_ALIVE_MS, KEEP_FOREVER, MAX_KEEP_ALIVE_MS],
    ['anything, the operator unloading right after', 60_000, 0, 0],
    ["none: the operator's", undefined, 60_000, 60_000],
    ["none, no operator's: the default", undefined, undefined, DEFAULT_KEEP_ALIVE_MS],
  ] as const)('%s', (_, requested, operator, kept) => {
    expect(requestKeepAlive(requested, operator)).toBe(kept)
  })
})

describe('unloadsAt', () => {
  it.each([
    ['idle, 5 min keep-alive', { busy: 0, lastUsedAt: 1_000, keepAliveMs: 300_000 }, 301_000],
    ['busy: never while a request runs', { busy: 1, lastUsedAt: 1_000, keepAliveMs: 0 }, null],
    ['kept forever', { busy: 0, lastUsedAt: 1_000, keepAliveMs: KEEP_FOREVER }, null],
    [
      '0: right after, with the least grace',
      { busy: 0, lastUsedAt: 1_000, keepAliveMs: 0 },
      1_000 + MIN_IDLE_MS,
    ],
  ] as const)('%s', (_, state, at) => {
    expect(unloadsAt(state)).toBe(at)
  })

  it('views a model loaded or not, and says it as a person reads it', () => {
    expect(idleView(null, 1_000)).toEqual({ loaded: false, idle_since: null, unloads_at: null })
    const view = idleView({ busy: 0, lastUsedAt: 10_000 }, 60_000)
    expect(view).toEqual({ loaded: true, idle_since: 10_000, unloads_at: 70_000 })
    const s = (ms: number) => `${ms / 1000}s`
    expect(keepAliveText(view, s, 40_000)).toBe('idle 30s, unloads in 30s')
    expect(keepAliveText(idleView({ busy: 2, lastUsedAt: 10_000 }, 60_000), s, 40_000)).toBe('busy')
    expect(keepAliveText(idleView({ busy: 0, lastUsedAt: 10_000 }, KEEP_FOREVER), s, 40_000)).toBe(
      'idle 30s, kept loaded',
    )
  })
})

describe('a ModelManager with a keep-alive (real engine)', { timeout: 60_000 }, () => {
  let dir = ''
  let manager: ModelManager | undefined
  afterEach(async () => {
    await manager?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  async function managerWith(keepAliveMs: number): Promise<ModelManager> {
    dir = await mkdtemp(join(tmpdir(), 'ripple-keep-alive-'))
    await writeLlamaModel(join(dir, 'tiny.gguf'), TINY_MODEL)
    manager = new ModelManager({
      modelsDir: dir,
      hashCache: new FileHashCache(null),
      threads: 1,
      contextSize: 512,
      keepAliveMs,
      logger: silentLogger(),
    })
    await manager.start()
    return manager
  }

  const until = async (check: () => boolean, ms = 10_000) => {
    for (const deadline = Date.now() + ms; !check(); ) {
      if (Date.now() > deadline) throw new Error('not reached in time')
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  it('unloads a model idle past its keep-alive, and says so to its listeners', async () => {
    const models = await managerWith(400)
    const changed = vi.fn()
    models.onChange(changed)
    await models.load('tiny')
    const loadedAt = Date.now()
    const listed = (await models.list()).models[0]!
    expect(listed.loaded).toBe(true)
    expect(listed.unloads_at! - listed.idle_since!).toBe(400)
    await until(() => models.loadedNames().length === 0)
    expect(Date.now() - loadedAt).toBeGreaterThanOrEqual(400 - 50)
    expect(changed).toHaveBeenCalled()
    expect((await models.list()).models[0]).toMatchObject({
      loaded: false,
      idle_since: null,
      unloads_at: null,
    })
  })

  it('never unloads while a request streams, even at keep-alive 0; unloads right after it', async () => {
    const models = await managerWith(0)
    const { model } = await models.acquire('tiny')
    let tokens = 0
    let loadedAtEveryToken = true
    // A sweep an hour "later", while the answer streams: the model is busy, so it stays.
    let swept: Promise<string[]> | undefined
    const result = await model.generate(
      { prompt: 'Once upon a time', max_tokens: 96, temperature: 0, seed: 1 },
      {
        onEvent: () => {
          tokens++
          swept ??= models.sweepIdle(Date.now() + 3_600_000)
          if (!models.loadedNames().includes('tiny')) loadedAtEveryToken = false
        },
      },
    )
    expect(result.generated_tokens).toBeGreaterThan(0)
    expect(tokens).toBeGreaterThan(0)
    expect(await swept).toEqual([])
    expect(loadedAtEveryToken).toBe(true)
    const endedAt = Date.now()
    await until(() => models.loadedNames().length === 0, 5_000)
    // "Right after": within the least grace and the sweep's timer, well before the next periodic sweep.
    expect(Date.now() - endedAt).toBeLessThan(MIN_IDLE_MS + 900)
  })

  it("follows a request's own keep-alive from then on (Ollama's keep_alive)", async () => {
    const models = await managerWith(KEEP_FOREVER)
    await models.acquire('tiny')
    expect(models.idleOf('tiny').unloads_at).toBeNull()
    await models.sweepIdle(Date.now() + 3_600_000)
    expect(models.loadedNames()).toEqual(['tiny'])
    await models.acquire('tiny', { keepAliveMs: 300 })
    expect(models.keepAliveOf('tiny')).toBe(300)
    await until(() => models.loadedNames().length === 0)
  })

  it("holds a request's keep-alive to the operator's: less is taken, more or forever is not", async () => {
    const models = await managerWith(60_000)
    await models.acquire('tiny', { keepAliveMs: KEEP_FOREVER })
    expect(models.keepAliveOf('tiny')).toBe(60_000)
    await models.acquire('tiny', { keepAliveMs: MAX_KEEP_ALIVE_MS })
    expect(models.keepAliveOf('tiny')).toBe(60_000)
    await models.acquire('tiny', { keepAliveMs: 5_000 })
    expect(models.keepAliveOf('tiny')).toBe(5_000)
  })
})
