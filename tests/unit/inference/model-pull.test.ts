/**
 * Model pulls through node-llama-cpp's downloader from a file server on 127.0.0.1 (nothing leaves
 * the machine; `hf:` URIs resolve there through HF_ENDPOINT, as huggingface.co cannot be reached):
 * complete, interrupted and resumed, corrupted, truncated, wrong size, wrong hash; its dirs 0700. And a
 * vision model's projector pulled with it: the repository's manifest names it, and it lands beside the
 * model as `<name>.mmproj.gguf` once it reads as a clip.cpp GGUF; a repository without one, or a plain
 * URL, names none; a file that is not a projector, or a manifest that cannot be read, is said.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TINY_MODEL, writeLlamaModel } from '../../../host/inference/gguf-gen/llama-generator.ts'
import {
  finishedDownload,
  ModelPullRefusedError,
  ModelSourceError,
  pullModel,
} from '../../../host/inference/model-pull.ts'
import { pullProjector } from '../../../host/inference/projector-pull.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { writeProjector } from '../../fixtures/gguf-gen/mmproj-generator.ts'
import { type ModelServer, startModelServer } from '../../fixtures/model-server.ts'

let root: string
let server: ModelServer
/** The Hugging Face stand-in, on another loopback address: node-llama-cpp takes any URL of its host for Hugging Face's. */
let hf: ModelServer
let tiny: Buffer
let tinySha: string
let projector: Buffer
let n = 0

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ripple-pull-'))
  await writeLlamaModel(join(root, 'tiny.gguf'), TINY_MODEL)
  tiny = await readFile(join(root, 'tiny.gguf'))
  tinySha = createHash('sha256').update(tiny).digest('hex')
  server = await startModelServer()
  hf = await startModelServer('127.0.0.2')
  process.env.HF_ENDPOINT = `${hf.url}/`
  // A vision repository: its manifest names a projector (and one names a file that is none).
  await writeProjector(join(root, 'mmproj.gguf'), { textEmbedding: 64 })
  projector = await readFile(join(root, 'mmproj.gguf'))
  hf.put('/someone/vision/resolve/main/mmproj-f16.gguf', projector)
  hf.put('/someone/vision/resolve/main/not-a-projector.gguf', tiny)
  hf.manifest('someone', 'vision', 'Q8_0', 'vision.Q8_0.gguf', 'mmproj-f16.gguf')
  hf.manifest('someone', 'vision', 'latest', 'vision.Q8_0.gguf', 'mmproj-f16.gguf')
  hf.manifest('someone', 'vision', 'Q4_0', 'vision.Q4_0.gguf', 'not-a-projector.gguf')
  hf.manifest('someone', 'text-only', 'Q8_0', 'text.Q8_0.gguf')
})
afterAll(async () => {
  await server.close()
  await hf.close()
  await rm(root, { recursive: true, force: true })
})

/** A fresh models dir and staging dir. */
function dirs() {
  n++
  return {
    modelsDir: join(root, `models-${n}`),
    stagingDir: join(root, `staging-${n}`),
    logger: silentLogger(),
  }
}

describe('pullModel', { timeout: 60_000 }, () => {
  it('downloads a URL into the models dir, checked, with progress', async () => {
    server.put('/files/tiny.gguf', tiny)
    const init = dirs()
    const progress: number[] = []
    const model = await pullModel(
      init,
      { source: `${server.url}/files/tiny.gguf`, sha256: tinySha },
      { onProgress: (p) => progress.push(p.done) },
    )
    expect(model.name).toBe('tiny')
    expect(model.sha256).toBe(tinySha)
    expect(model.path).toBe(join(init.modelsDir, 'tiny.gguf'))
    expect((await readFile(model.path)).equals(tiny)).toBe(true)
    expect(progress.at(-1)).toBe(tiny.length)
  })

  it('creates the models and staging dirs 0700 whatever the umask', async () => {
    server.put('/files/tiny.gguf', tiny)
    const init = dirs()
    const umask = process.umask(0)
    try {
      await pullModel(init, { source: `${server.url}/files/tiny.gguf` })
    } finally {
      process.umask(umask)
    }
    for (const dir of [init.modelsDir, init.stagingDir])
      expect([dir, (await stat(dir)).mode & 0o777]).toEqual([dir, 0o700])
  })

  it('resolves hf:owner/repo/file.gguf and hf:owner/repo:quant through the Hugging Face endpoint', async () => {
    hf.put('/someone/tiny-repo/resolve/main/tiny.gguf', tiny)
    const byFile = await pullModel(dirs(), { source: 'hf:someone/tiny-repo/tiny.gguf' })
    // node-llama-cpp's file name for a Hugging Face file: the owner and repo, then the file.
    expect(byFile.name).toBe('hf_someone_tiny-repo_tiny')
    expect(byFile.sha256).toBe(tinySha)
    hf.put('/someone/tiny-repo/resolve/main/tiny-repo.Q8_0.gguf', tiny)
    hf.manifest('someone', 'tiny-repo', 'Q8_0', 'tiny-repo.Q8_0.gguf')
    const byQuant = await pullModel(dirs(), { source: 'hf:someone/tiny-repo:Q8_0', name: 'tiny-q8' })
    expect(byQuant.name).toBe('tiny-q8')
    expect(byQuant.sha256).toBe(tinySha)
    await expect(pullModel(dirs(), { source: 'hf:someone/tiny-repo:Q2_K' })).rejects.toThrow(ModelSourceError)
  })

  it('refuses a corrupted file with the reason and keeps nothing', async () => {
    const corrupt = Buffer.from(tiny)
    corrupt.fill(0, 0, 4)
    server.put('/files/corrupt.gguf', corrupt)
    const init = dirs()
    const err = await pullModel(init, { source: `${server.url}/files/corrupt.gguf` }).catch((e: Error) => e)
    expect(err).toBeInstanceOf(ModelPullRefusedError)
    expect((err as ModelPullRefusedError).reason).toMatch(/^not a usable GGUF model: /)
    expect(await readdir(init.modelsDir).catch(() => [])).toEqual([])
    expect(await readdir(init.stagingDir)).toEqual([])
  })

  it('refuses a truncated model (the GGUF header says more than the file holds)', async () => {
    server.put('/files/short.gguf', tiny.subarray(0, tiny.length - 1000))
    const err = await pullModel(dirs(), { source: `${server.url}/files/short.gguf` }).catch((e: Error) => e)
    expect((err as ModelPullRefusedError).reason).toMatch(/truncated/)
  })

  it('refuses a file of the wrong size or hash', async () => {
    server.put('/files/sized.gguf', tiny)
    const wrongSize = await pullModel(dirs(), {
      source: `${server.url}/files/sized.gguf`,
      size: tiny.length + 1,
    }).catch((e: Error) => e)
    expect((wrongSize as ModelPullRefusedError).reason).toBe(
      `size: expected ${tiny.length + 1} bytes, got ${tiny.length}`,
    )
    const wrongHash = await pullModel(dirs(), {
      source: `${server.url}/files/sized.gguf`,
      sha256: '0'.repeat(64),
    }).catch((e: Error) => e)
    expect((wrongHash as ModelPullRefusedError).reason).toBe(
      `sha256: expected ${'0'.repeat(64)}, got ${tinySha}`,
    )
  })

  it('resumes an interrupted pull: the pieces it had are not fetched again', async () => {
    // ~21 MB: several of the downloader's 5 MiB chunks, sent slowly enough to stop midway.
    const path = join(root, 'big.gguf')
    await writeLlamaModel(path, { embedding: 256, blocks: 8, seed: 3 })
    const big = await readFile(path)
    const bigSha = createHash('sha256').update(big).digest('hex')
    server.put('/files/big.gguf', big)
    server.throttle('/files/big.gguf', 10)
    const init = dirs()
    const source = `${server.url}/files/big.gguf`
    // Stopped (as Ctrl-C stops `ripple models pull`) once the partial file records a whole chunk:
    // what a pull keeps is what its record says, whatever has arrived.
    const stop = new AbortController()
    const first = pullModel(init, { source }, { signal: stop.signal }).catch((e: Error) => e)
    let kept: KeptChunks | null = null
    while (kept === null) {
      await new Promise((resolve) => setTimeout(resolve, 10))
      kept = await keptChunks(init.stagingDir, big.length)
    }
    stop.abort()
    const stopped = await first
    expect(stopped).toBeInstanceOf(Error)
    expect((stopped as Error).name).toBe('AbortError')
    expect(await readdir(init.modelsDir).catch(() => [])).toEqual([])

    const before = server.gets.length
    const progress: number[] = []
    const model = await pullModel(
      init,
      { source, sha256: bigSha },
      { onProgress: (p) => progress.push(p.done) },
    )
    expect(model.sha256).toBe(bigSha)
    expect((await readFile(model.path)).equals(big)).toBe(true)
    // The downloader's own requests (ranged; the unranged one reads the GGUF header) start in no
    // chunk it kept, and left part of the file unfetched (counted as the bytes they covered
    // together: a stream reads on past its chunk until it sees the next one done), and its progress
    // started from what was kept.
    const refetches = server.gets.slice(before).filter((g) => g.ranged)
    const keptStarts = kept.complete.map((i) => i * kept.chunkSize)
    expect(refetches.map((g) => g.start).filter((start) => keptStarts.includes(start))).toEqual([])
    const refetched = coveredBytes(refetches)
    expect(refetched).toBeGreaterThan(0)
    expect(refetched).toBeLessThan(big.length)
    expect(progress[0]).toBeGreaterThan(0)
    expect(await readdir(init.stagingDir)).toEqual([])
  })

  it('says why a source cannot be fetched', async () => {
    await expect(pullModel(dirs(), { source: `${server.url}/files/missing.gguf` })).rejects.toThrow(
      ModelSourceError,
    )
  })
})

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

describe('finishedDownload', () => {
  const whole = { downloadedSize: 100, totalSize: 100 }
  it("cuts off ipull's progress record written after its finish, and nothing else", async () => {
    const body = Buffer.alloc(100, 7)
    const late = join(root, 'late.gguf')
    await writeFile(late, Buffer.concat([body, Buffer.from('{"part":0,"chunks":[1,1]}')]))
    await finishedDownload(whole, late, 'x', undefined)
    expect((await readFile(late)).equals(body)).toBe(true)
    // Bytes past the announced size that are not ipull's record stay, for the size check to refuse.
    const longer = join(root, 'longer.gguf')
    await writeFile(longer, Buffer.concat([body, Buffer.from('not json')]))
    await finishedDownload(whole, longer, 'x', undefined)
    expect((await stat(longer)).size).toBe(108)
  })

  it('says an interrupted download is one, and how to go on', async () => {
    const path = join(root, 'partial.gguf')
    await writeFile(path, Buffer.alloc(40))
    await expect(
      finishedDownload({ downloadedSize: 40, totalSize: 100 }, path, 'x', undefined),
    ).rejects.toThrow(/interrupted at 40 of 100 bytes; pull again to resume/)
  })
})

/** How many bytes the ranges [start, start + sent) cover together. */
function coveredBytes(gets: readonly { start: number; sent: number }[]): number {
  let covered = 0
  let reached = 0
  for (const { start, sent } of [...gets].sort((a, b) => a.start - b.start)) {
    const end = start + sent
    if (end > reached) covered += end - Math.max(start, reached)
    reached = Math.max(reached, end)
  }
  return covered
}

interface KeptChunks {
  chunkSize: number
  complete: number[]
}

/**
 * The chunks the partial download under `stagingDir` records as done, or null while none is: its
 * downloader (ipull) keeps its progress as JSON after the file's `size` bytes.
 */
async function keptChunks(stagingDir: string, size: number): Promise<KeptChunks | null> {
  // Read while the pull creates and writes them: a dir or file not there yet is read next time.
  const list = (dir: string) => readdir(dir).catch(() => [])
  for (const dir of await list(stagingDir)) {
    for (const name of await list(join(stagingDir, dir))) {
      const tail = await readTail(join(stagingDir, dir, name), size)
      if (tail.length === 0) continue
      try {
        const record = JSON.parse(tail.toString('utf8')) as {
          chunkSize: number
          chunks: number[]
        }
        const complete = record.chunks.flatMap((status, i) => (status === 2 ? [i] : []))
        if (complete.length > 0) return { chunkSize: record.chunkSize, complete }
      } catch {
        // Caught mid-write: read again on the next poll.
      }
    }
  }
  return null
}

/** The bytes of `path` after its first `from` (none when it is shorter, or gone). */
async function readTail(path: string, from: number): Promise<Buffer> {
  const file = await open(path, 'r').catch(() => null)
  if (file === null) return Buffer.alloc(0)
  try {
    const { size } = await file.stat()
    const tail = Buffer.alloc(Math.max(0, size - from))
    await file.read(tail, 0, tail.length, from)
    return tail
  } finally {
    await file.close()
  }
}
