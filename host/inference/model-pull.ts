/**
 * `ripple models pull <source>`: a model file fetched by name into the models directory with
 * node-llama-cpp's downloader (`hf:owner/repo/file.gguf`, `hf:owner/repo:quant`, or an https URL;
 * no HTTP client of our own). The download goes to a staging dir per source (outside the models dir,
 * so nothing half-written is ever advertised) and resumes there after an interruption. Before the
 * file joins the models dir it must have the size the source (or the caller) gives, the sha256 the
 * caller gives, and pass the same GGUF checks as every model before a load; a file that fails is
 * deleted and refused with the reason.
 */
import { createHash } from 'node:crypto'
import { copyFile, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Failure } from '../interface/failure-kind.ts'
import type { LongOperationOptions } from '../interface/progress.ts'
import type { Logger } from '../log/logger.ts'
import { pathExists } from '../storage/path-exists.ts'
import { PRIVATE_DIR_MODE } from '../storage/private-files.ts'
import { FileHashCache } from './file-hash-cache.ts'
import { type GgufModel, scanModelsDir } from './gguf-scan.ts'

export interface PullRequest {
  /** `hf:owner/repo/file.gguf`, `hf:owner/repo:quant` or an https URL. */
  source: string
  /** Expected sha256 (hex); checked when given. */
  sha256?: string
  /** Expected size in bytes; default: the size the server announces. */
  size?: number
  /** The model's name (its file name without `.gguf`); default node-llama-cpp's file name for the source. */
  name?: string
}

export interface PullInit {
  modelsDir: string
  /** Where downloads wait until they are checked (kept between attempts, for resuming). */
  stagingDir: string
  logger: Logger
}

/** Thrown when the source cannot be resolved or fetched (a bad URI, a 404, no network). */
export class ModelSourceError extends Error {
  static override readonly name = 'ModelSourceError'
  readonly failureKind: Failure = 'failed/upstream'
  constructor(source: string, cause: unknown) {
    super(`cannot fetch ${source}: ${(cause as Error).message}`, { cause })
    this.name = 'ModelSourceError'
  }
}

/** Thrown when the downloaded file is refused (size, hash, GGUF checks, name taken); it was deleted. */
export class ModelPullRefusedError extends Error {
  static override readonly name = 'ModelPullRefusedError'
  readonly failureKind: Failure = 'invalid/unprocessable'
  constructor(
    source: string,
    readonly reason: string,
  ) {
    super(`refused ${source}: ${reason}`)
    this.name = 'ModelPullRefusedError'
  }

  get details() {
    return { reason: this.reason }
  }
}

export async function pullModel(
  init: PullInit,
  request: PullRequest,
  options: LongOperationOptions = {},
): Promise<GgufModel> {
  const { createModelDownloader } = await import('node-llama-cpp')
  // One staging dir per source: an interrupted pull of the same source resumes from its partial file.
  const staging = join(
    init.stagingDir,
    createHash('sha256').update(request.source).digest('hex').slice(0, 16),
  )
  await mkdir(staging, { recursive: true, mode: PRIVATE_DIR_MODE })
  let downloader: Awaited<ReturnType<typeof createModelDownloader>>
  try {
    downloader = await createModelDownloader(
      downloadTo(request.source, staging, request.name && `${request.name}.gguf`, options),
    )
  } catch (err) {
    throw new ModelSourceError(request.source, err)
  }
  const fileName = downloader.entrypointFilename
  const refuse = async (reason: string): Promise<never> => {
    await rm(staging, { recursive: true, force: true })
    throw new ModelPullRefusedError(request.source, reason)
  }
  if (!fileName.endsWith('.gguf') || downloader.totalFiles !== 1)
    return refuse(`not a single .gguf file (${fileName}, ${downloader.totalFiles} files)`)
  const target = join(init.modelsDir, fileName)
  if (await pathExists(target)) return refuse(`${fileName} is already in the models directory`)
  const announced = downloader.totalSize
  let path: string
  try {
    path = await downloader.download({ signal: options.signal })
  } catch (err) {
    if (options.signal?.aborted) throw err
    throw new ModelSourceError(request.source, err)
  }
  await finishedDownload(downloader, path, request.source, options.signal)
  const { size } = await stat(path)
  const expectedSize = request.size ?? (announced > 0 ? announced : undefined)
  if (expectedSize !== undefined && size !== expectedSize)
    return refuse(`size: expected ${expectedSize} bytes, got ${size}`)
  // The same checks as before every load (and the hash), on the staging dir, which holds only this file.
  const scan = await scanModelsDir(staging, { hashCache: new FileHashCache(null), logger: init.logger })
  const [unusable] = scan.unusable
  if (unusable) return refuse(`not a usable GGUF model: ${unusable.reason}`)
  const [model] = scan.usable
  if (model === undefined) return refuse('the download holds no model file')
  if (request.sha256 !== undefined && model.sha256 !== request.sha256.toLowerCase())
    return refuse(`sha256: expected ${request.sha256}, got ${model.sha256}`)
  await mkdir(init.modelsDir, { recursive: true, mode: PRIVATE_DIR_MODE })
  await moveFile(path, target)
  await rm(staging, { recursive: true, force: true })
  return { ...model, path: target }
}

/**
 * Throws unless the download at `path` is whole. A cancelled download resolves too; its partial file
 * (progress kept at its end) stays for the next pull. And cuts off a progress record that ipull's
 * last periodic save wrote after its own truncate at the finish (a race in ipull, seen in CI): the
 * bytes past the announced size, written at that offset only by ipull, parse as its JSON record.
 */
export async function finishedDownload(
  downloader: { downloadedSize: number; totalSize: number },
  path: string,
  source: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  signal?.throwIfAborted()
  const { downloadedSize, totalSize } = downloader
  if (downloadedSize < totalSize) {
    throw new ModelSourceError(
      source,
      new Error(`interrupted at ${downloadedSize} of ${totalSize} bytes; pull again to resume`),
    )
  }
  const { size } = await stat(path)
  if (totalSize <= 0 || size <= totalSize) return
  const file = await open(path, 'r+')
  try {
    const tail = Buffer.alloc(size - totalSize)
    await file.read(tail, 0, tail.length, totalSize)
    if (isProgressRecord(tail)) await file.truncate(totalSize)
  } finally {
    await file.close()
  }
}

function isProgressRecord(tail: Buffer): boolean {
  try {
    const record: unknown = JSON.parse(tail.toString('utf8'))
    return typeof record === 'object' && record !== null
  } catch {
    return false
  }
}

/** node-llama-cpp's downloader, resuming in `staging`, its progress reported as a pull's. */
export function downloadTo(
  source: string,
  staging: string,
  fileName: string | undefined,
  options: LongOperationOptions,
) {
  return {
    modelUri: source,
    dirPath: staging,
    ...(fileName === undefined ? {} : { fileName }),
    // Kept on cancel and on a dropped connection: the next pull resumes it.
    deleteTempFileOnCancel: false,
    skipExisting: false,
    parallelDownloads: 1,
    onProgress: ({ downloadedSize, totalSize }: { downloadedSize: number; totalSize: number }) =>
      options.onProgress?.({
        stage: 'download',
        done: downloadedSize,
        total: totalSize > 0 ? totalSize : null,
        unit: 'bytes',
      }),
  }
}

/** A rename, or a copy where the staging dir is on another file system. */
export async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
    await copyFile(from, to)
    await unlink(from)
  }
}
