/**
 * Models run in llama-server processes of their own: a file that makes llama.cpp abort (GGML_ASSERT)
 * ends its engine process, never this one; the requests on it fail with llama.cpp's reason; the model
 * manager quarantines the file by hash (kept across restarts) and lists it as unusable.
 */
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { EngineBackends } from '../../../host/inference/engine/engine-backends.ts'
import { EngineModel } from '../../../host/inference/engine/engine-model.ts'
import { ServerStartError } from '../../../host/inference/engine/llama-server-process.ts'
import { FileHashCache } from '../../../host/inference/file-hash-cache.ts'
import { duplicateTokenModel, writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import type { GgufModel } from '../../../host/inference/gguf-scan.ts'
import { crashedModelFiles } from '../../../host/inference/model-errors.ts'
import { ModelManager } from '../../../host/inference/model-manager.ts'
import { ModelQuarantine } from '../../../host/inference/model-quarantine.ts'
import { silentLogger } from '../../../host/log/logger.ts'

let dir: string
const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex')
const greedy = { prompt: 'Hello', max_tokens: 8, temperature: 0, seed: 1 }

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-engine-crash-'))
  await mkdir(join(dir, 'models'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('EngineModel', { timeout: 60_000 }, () => {
  it('survives a model that llama.cpp loads and then aborts on at its first decode', async () => {
    // head_count 4, head_count_kv 3: loads, then GGML_ASSERT(ggml_can_mul_mat(k, q)) at the first decode
    // (llama-server's warm-up). The scan refuses it now; the engine's own process is what stands between
    // such a file and the daemon when a check misses one.
    const path = join(dir, 'kv-heads.gguf')
    await writeLlamaModel(path, { kvHeads: 3 })
    const info: GgufModel = {
      name: 'kv-heads',
      path,
      size_bytes: 0,
      sha256: await sha256(path),
      architecture: 'llama',
      parameters: 0,
      quantisation: 'F32',
      context_length: 4096,
      kv_bytes_per_token: 0,
      blocks: 2,
    }
    const backends = new EngineBackends({ logger: silentLogger(), devices: { nvidia: false, vulkan: false } })
    const err = (await EngineModel.start({
      info,
      backend: await backends.active(),
      contextSize: 512,
      threads: 1,
      slots: 1,
      onCrash: async () => new Error('not reached: the load itself fails'),
    }).catch((e: unknown) => e)) as ServerStartError
    expect(err).toBeInstanceOf(ServerStartError)
    expect(err.exit.signal).toBe('SIGABRT')
    expect(err.message).toMatch(
      /^llama-server was killed by SIGABRT: .*GGML_ASSERT\(ggml_can_mul_mat\(k, q\)\) failed/,
    )
    // This process is untouched.
    expect(process.exitCode).toBeUndefined()
  })
})

describe('ModelManager with a file that crashes llama.cpp', { timeout: 60_000 }, () => {
  const quarantineFile = () => join(dir, 'quarantine.json')
  const manager = () =>
    new ModelManager({
      modelsDir: join(dir, 'models'),
      hashCache: new FileHashCache(null),
      quarantine: new ModelQuarantine(quarantineFile()),
      threads: 1,
      contextSize: 512,
      logger: silentLogger(),
    })

  it('fails the load with the reason, quarantines the file by hash, lists it unusable, keeps the others', async () => {
    await writeLlamaModel(join(dir, 'models', 'tiny.gguf'))
    await writeFile(join(dir, 'models', 'dup.gguf'), duplicateTokenModel())
    const poison = await sha256(join(dir, 'models', 'dup.gguf'))
    const models = manager()
    await models.start()
    try {
      expect((await models.list()).models.map((m) => m.name)).toEqual(['dup', 'tiny'])
      const changed = vi.fn()
      models.onChange(changed)

      const err = (await models.acquire('dup').catch((e: unknown) => e)) as Error
      expect(err.name).toBe('ModelCrashedError')
      expect(err.message).toMatch(
        new RegExp(
          `^model file sha256:${poison} \\("dup"\\) crashed llama\\.cpp: llama-server was killed by SIGABRT: ` +
            '.*GGML_ASSERT\\(id_to_token\\.size\\(\\) == token_to_id\\.size\\(\\)\\) failed; this peer quarantined the file',
        ),
      )
      // The message is what a requester reads in the failed Result to spare the file's other copies.
      expect(crashedModelFiles([err.message])).toEqual(new Set([poison]))
      expect(changed).toHaveBeenCalled()

      const listing = await models.list()
      expect(listing.models.map((m) => m.name)).toEqual(['tiny'])
      expect(listing.unusable).toEqual([
        {
          path: join(dir, 'models', 'dup.gguf'),
          reason: expect.stringMatching(
            /^quarantined: crashed llama\.cpp \(llama-server was killed by SIGABRT/,
          ),
        },
      ])
      // Not tried again: refused before any process starts.
      await expect(models.load('dup')).rejects.toMatchObject({ name: 'ModelUnusableError' })
      expect((await (await models.load('tiny')).generate(greedy)).generated_tokens).toBeGreaterThan(0)
    } finally {
      await models.stop()
    }
  })

  it('keeps the quarantine across a restart, by hash (a renamed copy is still refused)', async () => {
    await writeFile(join(dir, 'models', 'renamed.gguf'), duplicateTokenModel())
    const models = manager()
    await models.start()
    try {
      const { models: usable, unusable } = await models.list()
      expect(usable.map((m) => m.name)).toEqual(['tiny'])
      expect(unusable.map((u) => u.path.slice(dir.length + 1)).sort()).toEqual([
        'models/dup.gguf',
        'models/renamed.gguf',
      ])
      await expect(models.acquire('renamed')).rejects.toMatchObject({ name: 'ModelUnusableError' })
    } finally {
      await models.stop()
    }
  })
})
