/**
 * A vision model's projector pulled with it: the repository's manifest (on a Hugging Face stand-in on
 * the machine, reached through HF_ENDPOINT as huggingface.co cannot be) names it, and it lands beside
 * the model as `<name>.mmproj.gguf` once it reads as a clip.cpp GGUF. A repository without one, or a
 * plain URL, names none; a file that is not a projector, or a manifest that cannot be read, is said.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_MODEL, writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import { writeProjector } from '../../../host/inference/gguf-gen/mmproj-generator.ts'
import { pullProjector } from '../../../host/inference/projector-pull.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { type ModelServer, startModelServer } from '../../fixtures/model-server.ts'

let root: string
let hf: ModelServer
let projector: Buffer
let n = 0

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-projector-'))
  await writeProjector(join(root, 'mmproj.gguf'), { textEmbedding: 64 })
  await writeLlamaModel(join(root, 'tiny.gguf'), TINY_MODEL)
  projector = await readFile(join(root, 'mmproj.gguf'))
  hf = await startModelServer('127.0.0.2')
  process.env.HF_ENDPOINT = `${hf.url}/`
  hf.put('/someone/vision/resolve/main/mmproj-f16.gguf', projector)
  hf.put('/someone/vision/resolve/main/not-a-projector.gguf', await readFile(join(root, 'tiny.gguf')))
  hf.manifest('someone', 'vision', 'Q8_0', 'vision.Q8_0.gguf', 'mmproj-f16.gguf')
  hf.manifest('someone', 'vision', 'latest', 'vision.Q8_0.gguf', 'mmproj-f16.gguf')
  hf.manifest('someone', 'vision', 'Q4_0', 'vision.Q4_0.gguf', 'not-a-projector.gguf')
  hf.manifest('someone', 'text-only', 'Q8_0', 'text.Q8_0.gguf')
})
afterAll(async () => {
  await hf.close()
  await rm(root, { recursive: true, force: true })
})

function dirs() {
  n++
  return {
    modelsDir: join(root, `models-${n}`),
    stagingDir: join(root, `staging-${n}`),
    logger: silentLogger(),
  }
}

describe('pullProjector', { timeout: 30_000 }, () => {
  it("fetches the projector the repository's manifest names, beside the model", async () => {
    for (const source of ['hf:someone/vision:Q8_0', 'hf:someone/vision/vision.Q8_0.gguf']) {
      const init = dirs()
      const pulled = await pullProjector(init, source, 'vision-q8')
      expect(pulled).toEqual({ file: join(init.modelsDir, 'vision-q8.mmproj.gguf') })
      expect(await readFile(join(init.modelsDir, 'vision-q8.mmproj.gguf'))).toEqual(projector)
      // Nothing is left half-way: the staging dir holds no file.
      expect(
        await readdir(init.stagingDir, { recursive: true }).then((f) => f.filter((x) => x.endsWith('.gguf'))),
      ).toEqual([])
    }
  })

  it('names none for a repository without one, or a source that is no Hugging Face repository', async () => {
    expect(await pullProjector(dirs(), 'hf:someone/text-only:Q8_0', 'text')).toBeNull()
    expect(await pullProjector(dirs(), 'hf:someone/unknown:Q8_0', 'text')).toBeNull()
    expect(
      await pullProjector(dirs(), `${hf.url}/someone/vision/resolve/main/mmproj-f16.gguf`, 'x'),
    ).toBeNull()
  })

  it('refuses a file that is not a projector, keeping nothing of it', async () => {
    const init = dirs()
    const pulled = await pullProjector(init, 'hf:someone/vision:Q4_0', 'vision-q4')
    expect(pulled).toEqual({
      error: expect.stringMatching(/not a multimodal projector \(architecture llama\)/),
    })
    expect(await readdir(init.modelsDir).catch(() => [])).toEqual([])
  })

  it('says why when the manifest cannot be read', async () => {
    hf.manifestStatus(503)
    try {
      expect(await pullProjector(dirs(), 'hf:someone/vision:Q8_0', 'vision')).toEqual({
        error: expect.stringMatching(/manifest: 503/),
      })
    } finally {
      hf.manifestStatus(null)
    }
  })
})
