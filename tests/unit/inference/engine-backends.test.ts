/**
 * The self-test and the fallback, with a GPU backend made to fail. There is no GPU here: the CUDA
 * backend is a stand-in library (tests/fixtures/standin-backend.ts) that aborts the way
 * node-llama-cpp's prebuilt CUDA backend does on a driver it does not match. llama-server, the probe
 * model, the CPU backend and the blame are real.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EngineBackends } from '../../../host/inference/engine/engine-backends.ts'
import { type EngineBuild, engineBuild } from '../../../host/inference/engine/engine-build.ts'
import { FileHashCache } from '../../../host/inference/file-hash-cache.ts'
import { writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import { ModelManager } from '../../../host/inference/model-manager.ts'
import { ModelQuarantine } from '../../../host/inference/model-quarantine.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { buildStandInBackend } from '../../fixtures/standin-backend.ts'

let dir: string
let standIn: string
let build: EngineBuild
const abortFile = () => join(dir, 'abort-now')

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-engine-backends-'))
  standIn = await buildStandInBackend(dir)
  // The real build's binaries, but backend folders and verdicts of this test's own.
  build = { ...(await engineBuild()), root: join(dir, 'engine'), builtCudaDir: null }
  await mkdir(build.root)
  process.env.RIPPLE_STANDIN_ABORT_FILE = abortFile()
})
afterAll(async () => {
  delete process.env.RIPPLE_STANDIN_ABORT_FILE
  await rm(dir, { recursive: true, force: true })
})

const backendsWith = () =>
  new EngineBackends({
    logger: silentLogger(),
    build,
    devices: { nvidia: true, vulkan: false },
    libraries: { 'cuda-prebuilt': standIn },
  })

describe('engine backends', { timeout: 60_000 }, () => {
  it('does not use a GPU backend that fails its self-test: the CPU, with the error and the fix', async () => {
    await writeFileEmpty(abortFile())
    const backends = backendsWith()
    const active = await backends.active()
    expect(active.candidate.id).toBe('cpu')
    const status = backends.status()
    expect(status?.backend).toBe('cpu')
    const cuda = status?.backends.find((b) => b.id === 'cuda-prebuilt')
    expect(cuda).toMatchObject({
      state: 'failed',
      detail: expect.stringMatching(
        /SIGABRT: CUDA error: the provided PTX was compiled with an unsupported toolchain/,
      ),
      fix: expect.stringMatching(/update the NVIDIA driver, or .*ripple engine build --gpu cuda/),
    })
    expect(status?.summary).toMatch(/^engine backend: cpu; cuda-prebuilt failed: .*unsupported toolchain/)
  })

  it('keeps the verdict for the same backend build and driver: no second probe', async () => {
    const verdicts = join(build.root, 'verdicts.json')
    const before = await stat(verdicts)
    const backends = backendsWith()
    expect((await backends.active()).candidate.id).toBe('cpu')
    expect((await stat(verdicts)).mtimeMs).toBe(before.mtimeMs)
    const stored = JSON.parse(await readFile(verdicts, 'utf8'))
    expect(stored['cuda-prebuilt'].verdict.ok).toBe(false)
  })

  it('blames the backend, not the file, when the tiny probe model crashes it too', async () => {
    await rm(join(build.root, 'verdicts.json'))
    await rm(abortFile(), { force: true })
    const backends = backendsWith()
    // Passes its self-test now (the stand-in registers nothing and llama.cpp runs on the CPU)...
    expect((await backends.active()).candidate.id).toBe('cuda-prebuilt')
    const modelsDir = join(dir, 'models')
    await mkdir(modelsDir)
    await writeLlamaModel(join(modelsDir, 'tiny.gguf'))
    const quarantine = new ModelQuarantine(join(dir, 'quarantine.json'))
    const models = new ModelManager({
      modelsDir,
      hashCache: new FileHashCache(null),
      quarantine,
      backends,
      threads: 1,
      contextSize: 512,
      logger: silentLogger(),
    })
    await models.start()
    try {
      // ...then crashes on every load: the probe model crashes it too, so the backend is at fault.
      await writeFileEmpty(abortFile())
      const err = (await models.load('tiny').catch((e: unknown) => e)) as Error
      expect(err.name).toBe('ModelCrashedError')
      expect(err.message).toMatch(
        /the cuda-prebuilt backend crashes on a tiny probe model too, so the backend is at fault/,
      )
      expect(err.message).not.toMatch(/quarantined/)
      // The file is usable, and the next load runs on the CPU.
      expect((await models.list()).models.map((m) => m.name)).toEqual(['tiny'])
      expect(backends.status()?.backend).toBe('cpu')
      const model = await models.load('tiny')
      expect(model.backend.candidate.id).toBe('cpu')
      expect(
        (await model.generate({ prompt: 'Hi', max_tokens: 4, temperature: 0, seed: 1 })).generated_tokens,
      ).toBe(4)
    } finally {
      await models.stop()
    }
  })
})

const writeFileEmpty = (path: string) => writeFile(path, '')
