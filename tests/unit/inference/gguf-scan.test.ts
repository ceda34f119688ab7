import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileHashCache } from '../../../host/inference/file-hash-cache.ts'
import { type GgufSpec, llamaSpec, writeGguf } from '../../../host/inference/gguf-gen/gguf-writer.ts'
import { llamaModelSpec } from '../../../host/inference/gguf-gen/llama-generator.ts'
import { scanModelsDir } from '../../../host/inference/gguf-scan.ts'
import { silentLogger } from '../../../host/log/logger.ts'

let dir: string
const options = () => ({ hashCache: new FileHashCache(null), logger: silentLogger() })

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-gguf-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('scanModelsDir', () => {
  it('reads architecture, parameters, quantisation, context length and sha256', async () => {
    const bytes = writeGguf(llamaSpec())
    await writeFile(join(dir, 'tiny.gguf'), bytes)
    const scan = await scanModelsDir(dir, options())
    expect(scan.unusable).toEqual([])
    expect(scan.usable).toEqual([
      {
        name: 'tiny',
        path: join(dir, 'tiny.gguf'),
        size_bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        architecture: 'llama',
        parameters: 8 * 4 + 8,
        quantisation: 'F32',
        context_length: 128,
        // Keys and values x 1 block x 8 wide (2 heads, 2 KV heads) x 2 bytes.
        kv_bytes_per_token: 2 * 1 * 8 * 2,
        blocks: 1,
      },
    ])
  })

  it('finds models in subdirectories and ignores other files', async () => {
    await mkdir(join(dir, 'family'))
    await writeFile(join(dir, 'family', 'a.gguf'), writeGguf(llamaSpec()))
    await writeFile(join(dir, 'README.md'), 'not a model')
    const scan = await scanModelsDir(dir, options())
    expect(scan.usable.map((m) => m.name)).toEqual(['a'])
  })

  it('reports a truncated file as unusable', async () => {
    const bytes = writeGguf(llamaSpec())
    await writeFile(join(dir, 'cut.gguf'), bytes.subarray(0, bytes.length - 40))
    const scan = await scanModelsDir(dir, options())
    expect(scan.usable).toEqual([])
    expect(scan.unusable[0]?.reason).toMatch(
      /^truncated: tensor \S+ ends at byte \d+, the file has \d+ bytes$/,
    )
  })

  it('reports a file cut inside its header, and one that is not GGUF, as unusable', async () => {
    const bytes = writeGguf(llamaSpec())
    for (const cut of [100, 300, 500]) await writeFile(join(dir, `half-${cut}.gguf`), bytes.subarray(0, cut))
    await writeFile(join(dir, 'junk.gguf'), Buffer.from('this is not a model at all'))
    const scan = await scanModelsDir(dir, options())
    expect(scan.usable).toEqual([])
    const reasons = Object.fromEntries(scan.unusable.map((u) => [u.path.slice(dir.length + 1), u.reason]))
    for (const cut of [100, 300, 500]) {
      expect(reasons[`half-${cut}.gguf`]).toMatch(
        new RegExp(`^truncated: the header ends at byte \\d+, the file has ${cut} bytes$`),
      )
    }
    expect(reasons['junk.gguf']).toMatch(/^not a readable GGUF file/)
  })

  it('reports missing keys that would make llama.cpp abort the process', async () => {
    const spec = llamaSpec({
      'llama.feed_forward_length': undefined,
      'llama.attention.head_count': undefined,
    })
    await writeFile(join(dir, 'nokeys.gguf'), writeGguf(spec))
    const scan = await scanModelsDir(dir, options())
    expect(scan.unusable[0]?.reason).toBe('missing llama.feed_forward_length, llama.attention.head_count')
  })

  it('reports counts of 0 (or too many blocks) that would make llama.cpp abort the process', async () => {
    const files = {
      'zero-heads.gguf': { 'llama.attention.head_count': { u32: 0 } },
      'zero-kv-heads.gguf': { 'llama.attention.head_count_kv': { u32: 0 } },
      'zero-ff.gguf': { 'llama.feed_forward_length': { u32: 0 } },
      'zero-blocks.gguf': { 'llama.block_count': { u32: 0 } },
      'many-blocks.gguf': { 'llama.block_count': { u32: 513 } },
    }
    for (const [name, overrides] of Object.entries(files))
      await writeFile(join(dir, name), writeGguf(llamaSpec(overrides)))
    const scan = await scanModelsDir(dir, options())
    expect(Object.fromEntries(scan.unusable.map((u) => [u.path.slice(dir.length + 1), u.reason]))).toEqual({
      'zero-heads.gguf': 'llama.attention.head_count must be a positive integer, got 0',
      'zero-kv-heads.gguf': 'llama.attention.head_count_kv must be a positive integer, got 0',
      'zero-ff.gguf': 'llama.feed_forward_length must be a positive integer, got 0',
      'zero-blocks.gguf': 'llama.block_count must be a positive integer, got 0',
      'many-blocks.gguf': 'llama.block_count is 513, llama.cpp allows at most 512',
    })
  })

  it('reports header facts llama.cpp would abort on or misread: heads, shapes, context, token ids', async () => {
    const files: Record<string, GgufSpec> = {
      // Loads, then aborts llama.cpp at the first token (GGML_ASSERT(ggml_can_mul_mat(k, q))).
      'kv-heads.gguf': llamaModelSpec({ kvHeads: 3 }),
      'huge-context.gguf': llamaSpec({ 'llama.context_length': { u32: 2 ** 31 } }),
      'bad-eos.gguf': llamaSpec({ 'tokenizer.ggml.eos_token_id': { u32: 4 } }),
      'short-types.gguf': llamaSpec({ 'tokenizer.ggml.token_type': { i32s: [2, 3, 3] } }),
      'wide-embd.gguf': { ...llamaSpec(), tensors: [{ name: 'token_embd.weight', dims: [16, 4] }] },
      'few-rows.gguf': { ...llamaSpec(), tensors: [{ name: 'token_embd.weight', dims: [8, 3] }] },
      'extra-block.gguf': {
        ...llamaSpec(),
        tensors: [...llamaSpec().tensors, { name: 'blk.1.attn_norm.weight', dims: [8] }],
      },
      'narrow-k.gguf': {
        ...llamaSpec(),
        tensors: [...llamaSpec().tensors, { name: 'blk.0.attn_k.weight', dims: [8, 4] }],
      },
    }
    for (const [name, spec] of Object.entries(files)) await writeFile(join(dir, name), writeGguf(spec))
    // Absent ids and the u32 "none" pass.
    await writeFile(
      join(dir, 'ok.gguf'),
      writeGguf(llamaSpec({ 'tokenizer.ggml.padding_token_id': { u32: 0xffffffff } })),
    )
    const scan = await scanModelsDir(dir, options())
    expect(scan.usable.map((m) => m.name)).toEqual(['ok'])
    expect(Object.fromEntries(scan.unusable.map((u) => [u.path.slice(dir.length + 1), u.reason]))).toEqual({
      'kv-heads.gguf':
        'llama.attention.head_count (4) is not a multiple of llama.attention.head_count_kv (3)',
      'huge-context.gguf': 'llama.context_length is 2147483648, more than any model is trained on',
      'bad-eos.gguf': 'tokenizer.ggml.eos_token_id is 4, the vocabulary has 4 tokens',
      'short-types.gguf': 'tokenizer.ggml.token_type has 3 entries for 4 tokens',
      'wide-embd.gguf':
        'tensor token_embd.weight has shape [16, 4], the metadata asks for [8, ...] (embedding_length)',
      'few-rows.gguf':
        'tensor token_embd.weight has shape [8, 3], the metadata asks for [8, 4] (one row per token)',
      'extra-block.gguf': 'tensor blk.1.attn_norm.weight is past llama.block_count (1)',
      'narrow-k.gguf':
        'tensor blk.0.attn_k.weight has shape [8, 4], the metadata asks for [..., 8] (head size × head_count_kv)',
    })
  })

  it('returns nothing for a missing directory', async () => {
    expect(await scanModelsDir(join(dir, 'absent'), options())).toEqual({ usable: [], unusable: [] })
  })

  it('reuses a hash while the file keeps its size and mtime, and re-hashes when they change', async () => {
    const path = join(dir, 'm.gguf')
    const bytes = writeGguf(llamaSpec())
    await writeFile(path, bytes)
    // A whole-millisecond mtime, so setting it again below restores it exactly.
    const mtime = new Date('2025-01-01T00:00:00Z')
    await utimes(path, mtime, mtime)
    const cacheFile = join(dir, 'hashes.json')
    const first = await scanModelsDir(dir, {
      hashCache: new FileHashCache(cacheFile),
      logger: silentLogger(),
    })

    // Same size and mtime, different bytes: the cached hash (from the file on disk) is used.
    const changed = Buffer.from(bytes)
    changed[changed.length - 1] = 1
    await writeFile(path, changed)
    await utimes(path, mtime, mtime)
    const reloaded = new FileHashCache(cacheFile)
    await reloaded.load()
    const second = await scanModelsDir(dir, { hashCache: reloaded, logger: silentLogger() })
    expect(second.usable[0]?.sha256).toBe(first.usable[0]?.sha256)

    // A new mtime: hashed again.
    await utimes(path, new Date(), new Date(Date.now() + 5000))
    const third = await scanModelsDir(dir, { hashCache: reloaded, logger: silentLogger() })
    expect(third.usable[0]?.sha256).toBe(createHash('sha256').update(changed).digest('hex'))
  })
})
