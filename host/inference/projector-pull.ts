/**
 * A vision model's projector, pulled with it. For a Hugging Face source the repository's manifest (the
 * route node-llama-cpp resolves `hf:owner/repo:quant` through, and llama.cpp's own `-hf` reads) names
 * its multimodal projector (`mmprojFile`) when it has one. It is fetched with node-llama-cpp's
 * downloader and, once it reads as a GGUF of clip.cpp's architecture, placed as `<name>.mmproj.gguf`
 * beside the model, where the engine finds it (vision.ts). Other sources name no projector.
 */
import { createHash } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { LongOperationOptions } from '../interface/progress.ts'
import { pathExists } from '../storage/path-exists.ts'
import { PRIVATE_DIR_MODE } from '../storage/private-files.ts'
import {
  downloadTo,
  finishedDownload,
  ModelPullRefusedError,
  ModelSourceError,
  moveFile,
  type PullInit,
} from './model-pull.ts'
import { PROJECTOR_SUFFIX } from './vision.ts'

/** `hf:owner/repo`, then `:quant` or `/file.gguf` (the manifest's tag: the quant, else `latest`). */
const HF_SOURCE = /^hf:([^/:]+)\/([^/:]+)(?::([^/]+)|\/.+)?$/

/** What the pull found of a projector: its file, or why it could not be had; null: the source names none. */
export type ProjectorPull = { file: string } | { error: string } | null

export async function pullProjector(
  init: PullInit,
  source: string,
  model: string,
  options: LongOperationOptions = {},
): Promise<ProjectorPull> {
  const repo = HF_SOURCE.exec(source)
  if (repo === null) return null
  const [, owner = '', name = '', tag = 'latest'] = repo
  try {
    const file = await projectorOf(owner, name, tag, options.signal)
    if (file === null) return null
    return { file: await fetchProjector(init, `hf:${owner}/${name}/${file}`, model, options) }
  } catch (err) {
    options.signal?.throwIfAborted()
    return { error: (err as Error).message }
  }
}

/** The projector file the repository's manifest names for `tag`, or null. */
async function projectorOf(
  owner: string,
  repo: string,
  tag: string,
  signal?: AbortSignal,
): Promise<string | null> {
  const endpoint = (process.env.HF_ENDPOINT ?? 'https://huggingface.co/').replace(/\/?$/, '/')
  const url = `${endpoint}v2/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/manifests/${encodeURIComponent(tag)}`
  // Hugging Face answers the GGUF fields of a manifest to llama.cpp's user agent only.
  const response = await fetch(url, { headers: { 'User-Agent': 'llama-cpp' }, ...(signal ? { signal } : {}) })
  if (response.status === 404) return null
  if (!response.ok)
    throw new ModelSourceError(`hf:${owner}/${repo}:${tag}`, new Error(`manifest: ${response.status}`))
  const manifest = (await response.json()) as { mmprojFile?: { rfilename?: unknown } }
  const file = manifest.mmprojFile?.rfilename
  return typeof file === 'string' && file.endsWith('.gguf') ? file : null
}

async function fetchProjector(
  init: PullInit,
  source: string,
  model: string,
  { signal, onProgress }: LongOperationOptions,
): Promise<string> {
  const { createModelDownloader, readGgufFileInfo } = await import('node-llama-cpp')
  const target = join(init.modelsDir, `${model}${PROJECTOR_SUFFIX}`)
  if (await pathExists(target)) return target
  const staging = join(init.stagingDir, createHash('sha256').update(source).digest('hex').slice(0, 16))
  await mkdir(staging, { recursive: true, mode: PRIVATE_DIR_MODE })
  const downloader = await createModelDownloader(
    downloadTo(source, staging, `${model}${PROJECTOR_SUFFIX}`, { signal, onProgress }),
  ).catch((err: unknown) => {
    throw new ModelSourceError(source, err)
  })
  const path = await downloader.download(signal ? { signal } : {})
  await finishedDownload(downloader, path, source, signal)
  const info = await readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false }).catch(
    () => null,
  )
  const architecture = info?.metadata.general?.architecture
  if (architecture !== 'clip') {
    await rm(staging, { recursive: true, force: true })
    throw new ModelPullRefusedError(
      source,
      `not a multimodal projector (${info === null ? 'not a readable GGUF' : `architecture ${String(architecture)}`})`,
    )
  }
  await mkdir(init.modelsDir, { recursive: true, mode: PRIVATE_DIR_MODE })
  await moveFile(path, target)
  await rm(staging, { recursive: true, force: true })
  return target
}
