/**
 * Finds the GGUF models in a models directory and reads what a peer advertises about each:
 * architecture, parameter count, quantisation, context length and the file's sha256.
 *
 * Only the header and tensor table are read (node-llama-cpp's `readGgufFileInfo`); nothing is
 * loaded. A file llama.cpp could not load (bad header, missing keys that make it abort the whole
 * process, truncated data) is reported as unusable with the reason, never thrown.
 */
import { readdir, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { GgufFileInfo } from 'node-llama-cpp'
import type { Logger } from '../log/logger.ts'
import type { FileHashCache } from './file-hash-cache.ts'
import { tensorBytes, tensorElements } from './gguf-tensor-bytes.ts'
import { isProjectorFile } from './vision.ts'

export interface GgufModel {
  /** The file name without `.gguf`: what requesters name when they route to a model. */
  name: string
  path: string
  size_bytes: number
  sha256: string
  architecture: string
  /** Total weights, summed over the tensor table. */
  parameters: number
  /** e.g. `Q4_K_M`, `F16`; null when the file does not say. */
  quantisation: string | null
  /** The context length the model was trained with. */
  context_length: number
  /** Memory each token of context takes in the KV cache (f16 keys and values, every block). */
  kv_bytes_per_token: number
  /** Repeating blocks (layers): what a split shares out. */
  blocks: number
}

export interface UnusableModel {
  path: string
  reason: string
}

export interface ModelScan {
  usable: GgufModel[]
  unusable: UnusableModel[]
}

export interface ScanOptions {
  hashCache: FileHashCache
  logger: Logger
}

// Split models (`x-00002-of-00003.gguf`): the first part describes the whole model.
const LATER_SPLIT_PART = /-(\d{5})-of-\d{5}\.gguf$/

// llama.cpp aborts the process (GGML_ASSERT) when a transformer lacks one of these, or when
// block_count, feed_forward_length or a head count is 0 (checked with llama.cpp v0.5.0).
const REQUIRED_ARCH_KEYS = [
  'context_length',
  'embedding_length',
  'block_count',
  'feed_forward_length',
  'attention.head_count',
] as const
// Optional, but a 0 is refused just the same: llama-server exits 1 on such a file.
const OPTIONAL_ARCH_KEYS = ['attention.head_count_kv'] as const
// llama.cpp's LLAMA_MAX_LAYERS: more blocks abort the process.
const MAX_BLOCKS = 512
// No model is trained on more (the longest today take ~10M tokens); a bigger number is a broken file.
const MAX_CONTEXT_LENGTH = 1 << 25
// The special tokens llama.cpp looks up by id: an id past the vocabulary reads out of bounds.
const SPECIAL_TOKEN_KEYS = ['bos', 'eos', 'eot', 'eom', 'unknown', 'separator', 'padding', 'mask', 'cls']

/** Thrown (and caught inside the scan) when a file's header or data cannot be used. */
export class UnusableModelError extends Error {
  static override readonly name = 'UnusableModelError'
  constructor(message: string) {
    super(message)
    this.name = 'UnusableModelError'
  }
}

/** The name a model file is advertised (and requested) by: its file name without `.gguf`. */
export function modelName(path: string): string {
  return basename(path, '.gguf')
}

export async function scanModelsDir(dir: string, options: ScanOptions): Promise<ModelScan> {
  const paths = await listGgufFiles(dir)
  const scan: ModelScan = { usable: [], unusable: [] }
  if (paths.length === 0) {
    await options.hashCache.save(new Set())
    return scan
  }
  // Imported here: node-llama-cpp costs ~0.4 s to load, and most peers start with no models.
  const { readGgufFileInfo, GgufFileType } = await import('node-llama-cpp')
  for (const path of paths) {
    try {
      const info = await readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false }).catch(
        (err: Error) => {
          throw new UnusableModelError(`not a readable GGUF file: ${err.message}`)
        },
      )
      const { size, mtimeMs } = await stat(path)
      checkNotTruncated(info, size)
      const architecture = checkMetadata(info)
      checkShapes(info, architecture)
      checkVocabulary(info)
      const fileType = info.metadata.general.file_type
      const tensors = info.fullTensorInfo ?? []
      scan.usable.push({
        name: modelName(path),
        path,
        size_bytes: size,
        sha256: await hashWithProgress(path, size, mtimeMs, options),
        architecture,
        parameters: tensors.reduce((sum, t) => sum + tensorElements(t), 0),
        quantisation: fileType === undefined ? null : quantName(GgufFileType[fileType]),
        context_length: Number(archValue(info, 'context_length')),
        kv_bytes_per_token: kvBytesPerToken(info),
        blocks: Number(archValue(info, 'block_count')),
      })
    } catch (err) {
      const reason =
        err instanceof UnusableModelError ? err.message : `cannot read: ${(err as Error).message}`
      options.logger.warn({ path, reason }, 'model file is unusable')
      scan.unusable.push({ path, reason })
    }
  }
  await options.hashCache.save(new Set(scan.usable.map((m) => m.path)))
  return scan
}

async function listGgufFiles(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(dir, { recursive: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  // A projector (`<name>.mmproj.gguf`) belongs to its model; it is no model of its own.
  return names
    .filter((name) => name.endsWith('.gguf') && !isProjectorFile(name))
    .filter((name) => {
      const part = LATER_SPLIT_PART.exec(name)?.[1]
      return part === undefined || Number(part) === 1
    })
    .sort()
    .map((name) => join(dir, name))
}

function archValue(info: GgufFileInfo, key: string): unknown {
  let value: unknown = info.architectureMetadata
  for (const part of key.split('.')) value = (value as Record<string, unknown> | undefined)?.[part]
  return value
}

/** Returns the architecture, or throws when a key llama.cpp needs is missing. */
function checkMetadata(info: GgufFileInfo): string {
  const architecture: unknown = info.metadata.general?.architecture
  if (typeof architecture !== 'string' || architecture === '') {
    throw new UnusableModelError('missing general.architecture')
  }
  const missing = REQUIRED_ARCH_KEYS.filter((key) => archValue(info, key) === undefined)
  if (missing.length > 0) {
    throw new UnusableModelError(`missing ${missing.map((k) => `${architecture}.${k}`).join(', ')}`)
  }
  for (const key of [...REQUIRED_ARCH_KEYS, ...OPTIONAL_ARCH_KEYS]) {
    const value = archValue(info, key)
    // Some architectures give per-layer arrays, whose entries may legitimately be 0.
    if (value === undefined || Array.isArray(value)) continue
    // u64 keys come back as bigint.
    const n = typeof value === 'bigint' ? Number(value) : value
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw new UnusableModelError(`${architecture}.${key} must be a positive integer, got ${String(value)}`)
    }
  }
  const blocks = Number(archValue(info, 'block_count'))
  if (blocks > MAX_BLOCKS) {
    throw new UnusableModelError(
      `${architecture}.block_count is ${blocks}, llama.cpp allows at most ${MAX_BLOCKS}`,
    )
  }
  const context = Number(archValue(info, 'context_length'))
  if (context > MAX_CONTEXT_LENGTH) {
    throw new UnusableModelError(
      `${architecture}.context_length is ${context}, more than any model is trained on`,
    )
  }
  const heads = scalar(archValue(info, 'attention.head_count'))
  const kvHeads = scalar(archValue(info, 'attention.head_count_kv'))
  // Grouped-query attention shares each KV head among head_count / head_count_kv query heads;
  // llama.cpp loads such a file and aborts at the first token (GGML_ASSERT(ggml_can_mul_mat(k, q))).
  if (heads !== null && kvHeads !== null && heads % kvHeads !== 0) {
    throw new UnusableModelError(
      `${architecture}.attention.head_count (${heads}) is not a multiple of ${architecture}.attention.head_count_kv (${kvHeads})`,
    )
  }
  if (!info.fullTensorInfo || info.fullTensorInfo.length === 0) throw new UnusableModelError('no tensors')
  return architecture
}

/** A number key's value, or null when absent or a per-layer array. */
function scalar(value: unknown): number | null {
  if (typeof value === 'bigint') return Number(value)
  return typeof value === 'number' ? value : null
}

/**
 * Tensor shapes against the metadata, where every architecture agrees: the token embedding is
 * embedding_length wide and has a row per token, blocks are numbered below block_count, and the
 * attention weights have room for the heads the metadata declares.
 */
function checkShapes(info: GgufFileInfo, architecture: string): void {
  const embedding = Number(archValue(info, 'embedding_length'))
  const blocks = Number(archValue(info, 'block_count'))
  const tokens = tokenList(info)?.length
  const heads = scalar(archValue(info, 'attention.head_count'))
  const kvHeads = scalar(archValue(info, 'attention.head_count_kv')) ?? heads
  const keyLength = scalar(archValue(info, 'attention.key_length'))
  const headSize = keyLength ?? (heads === null ? null : embedding / heads)
  const dims = (t: { dimensions: readonly (number | bigint)[] }) => t.dimensions.map(Number)
  for (const tensor of info.fullTensorInfo ?? []) {
    const shape = dims(tensor)
    const wrong = (expected: string) =>
      new UnusableModelError(
        `tensor ${tensor.name} has shape [${shape.join(', ')}], the metadata asks for ${expected}`,
      )
    const block = /^blk\.(\d+)\./.exec(tensor.name)?.[1]
    if (block !== undefined && Number(block) >= blocks) {
      throw new UnusableModelError(`tensor ${tensor.name} is past ${architecture}.block_count (${blocks})`)
    }
    if (tensor.name === 'token_embd.weight') {
      if (shape[0] !== embedding) throw wrong(`[${embedding}, ...] (embedding_length)`)
      if (tokens !== undefined && shape[1] !== tokens)
        throw wrong(`[${embedding}, ${tokens}] (one row per token)`)
    }
    if (headSize !== null && kvHeads !== null && /^blk\.\d+\.attn_k\.weight$/.test(tensor.name)) {
      if (shape[1] !== headSize * kvHeads)
        throw wrong(`[..., ${headSize * kvHeads}] (head size × head_count_kv)`)
    }
  }
}

function tokenList(info: GgufFileInfo): readonly unknown[] | undefined {
  const tokens: unknown = (info.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } }).tokenizer?.ggml
    ?.tokens
  return Array.isArray(tokens) ? tokens : undefined
}

/** Special token ids inside the vocabulary, and per-token arrays as long as the token list. */
function checkVocabulary(info: GgufFileInfo): void {
  const ggml = (info.metadata as { tokenizer?: { ggml?: Record<string, unknown> } }).tokenizer?.ggml
  const tokens = tokenList(info)
  if (!ggml || !tokens) return
  if (tokens.length === 0) throw new UnusableModelError('tokenizer.ggml.tokens is empty')
  for (const key of ['token_type', 'scores']) {
    const values = ggml[key]
    if (Array.isArray(values) && values.length !== tokens.length) {
      throw new UnusableModelError(
        `tokenizer.ggml.${key} has ${values.length} entries for ${tokens.length} tokens`,
      )
    }
  }
  for (const name of SPECIAL_TOKEN_KEYS) {
    const id = scalar(ggml[`${name}_token_id`])
    // -1 (written as u32 by some converters: 0xFFFFFFFF) means "none".
    if (id !== null && id !== -1 && id !== 0xffffffff && (id < 0 || id >= tokens.length)) {
      throw new UnusableModelError(
        `tokenizer.ggml.${name}_token_id is ${id}, the vocabulary has ${tokens.length} tokens`,
      )
    }
  }
}

function checkNotTruncated(info: GgufFileInfo, fileSize: number): void {
  // The parser reads past the end of a short file as zeros instead of failing, so compare offsets.
  const headerEnd = info.infoEndOffset ?? info.metadataSize
  if (headerEnd > fileSize) {
    throw new UnusableModelError(
      `truncated: the header ends at byte ${headerEnd}, the file has ${fileSize} bytes`,
    )
  }
  for (const tensor of info.fullTensorInfo ?? []) {
    // Parts of a split model live in other files, whose sizes are not this file's.
    if (tensor.filePart !== 1) continue
    const end = Number(tensor.fileOffset) + (tensorBytes(tensor) ?? 0)
    if (end > fileSize) {
      throw new UnusableModelError(
        `truncated: tensor ${tensor.name} ends at byte ${end}, the file has ${fileSize} bytes`,
      )
    }
  }
}

/** 2 (keys and values) x blocks x the KV width (embedding / heads x KV heads) x 2 bytes (f16). */
function kvBytesPerToken(info: GgufFileInfo): number {
  const heads = Number(archValue(info, 'attention.head_count'))
  const kvHeads = Number(archValue(info, 'attention.head_count_kv') ?? heads)
  const kvWidth = (Number(archValue(info, 'embedding_length')) / heads) * kvHeads
  return 2 * Number(archValue(info, 'block_count')) * kvWidth * 2
}

function quantName(fileTypeName: string | undefined): string | null {
  if (fileTypeName === undefined) return null
  return fileTypeName.replace(/^(MOSTLY|ALL)_/, '')
}

async function hashWithProgress(path: string, size: number, mtimeMs: number, options: ScanOptions) {
  if (options.hashCache.has(path, size, mtimeMs)) return options.hashCache.sha256(path, size, mtimeMs)
  // Hashing a multi-GiB model takes seconds: say so before, and how long it took after.
  options.logger.info({ path, size_bytes: size }, 'hashing model file')
  const startedAt = Date.now()
  const sha256 = await options.hashCache.sha256(path, size, mtimeMs)
  options.logger.info({ path, ms: Date.now() - startedAt }, 'hashed model file')
  return sha256
}
