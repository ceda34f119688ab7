/**
 * Where the engine is: the `llama-server` and `ggml-rpc-server` that scripts/build-engine.sh builds
 * from the llama.cpp source node-llama-cpp ships, kept per source commit under
 * `$RIPPLE_ENGINE_HOME` (default `~/.cache/ripple/engine`), and node-llama-cpp's prebuilt backend
 * libraries, which load into it as dynamic backends (same source commit, same ABI).
 */
import { existsSync, readFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Failure } from '../../interface/failure-kind.ts'
import { repoPath } from '../../runtime/repo-root.ts'

export interface EngineBuild {
  /** The bundled llama.cpp source's commit (12 hex digits): peers of a split must share it. */
  commit: string
  /** The build's folder (`bin/`, `cuda/`, probe verdicts). */
  root: string
  /** llama-server, ggml-rpc-server and the shared libraries they link. */
  binDir: string
  /** The CUDA backend built here for the local GPUs, when `ripple engine build --gpu cuda` made one. */
  builtCudaDir: string | null
  /**
   * What peers of a split must share: the source's commit and ggml's RPC protocol version
   * (`de3ff815ea7d/rpc7.0.0`), advertised as the capability tag `llama:<it>`.
   */
  id: string
}

/** Thrown when the engine was not built (the install builds it). */
export class EngineMissingError extends Error {
  static override readonly name = 'EngineMissingError'
  readonly failureKind: Failure = 'unavailable'
  constructor(where: string) {
    super(`llama.cpp's server is not built (looked in ${where}): run \`bash scripts/build-engine.sh\``)
    this.name = 'EngineMissingError'
  }
}

const BUNDLE = repoPath('node_modules', 'node-llama-cpp', 'llama', 'gitRelease.bundle')

export function engineHome(): string {
  return process.env.RIPPLE_ENGINE_HOME ?? join(homedir(), '.cache', 'ripple', 'engine')
}

let cachedCommit: Promise<string> | null = null

/** The bundle's head commit, read from its header (`<sha> HEAD` on the second line). */
export function bundledCommit(): Promise<string> {
  cachedCommit ??= (async () => {
    const file = await open(BUNDLE, 'r')
    try {
      const head = Buffer.alloc(256)
      await file.read(head, 0, 256, 0)
      const sha = /^([0-9a-f]{40}) /m.exec(head.toString('latin1'))?.[1]
      if (!sha) throw new Error(`${BUNDLE} is not a git bundle`)
      return sha.slice(0, 12)
    } finally {
      await file.close()
    }
  })()
  return cachedCommit
}

export async function engineBuild(): Promise<EngineBuild> {
  const commit = await bundledCommit()
  const root = join(engineHome(), commit)
  const binDir = join(root, 'bin')
  if (!existsSync(join(binDir, 'llama-server'))) throw new EngineMissingError(binDir)
  const cuda = join(root, 'cuda')
  return {
    commit,
    root,
    binDir,
    builtCudaDir: existsSync(join(cuda, 'libggml-cuda.so')) ? cuda : null,
    id: `${commit}/rpc${rpcProtocol(root)}`,
  }
}

/** ggml's RPC protocol version, from the header of the source the build came from. */
function rpcProtocol(root: string): string {
  try {
    const header = readFileSync(join(root, 'src', 'ggml', 'include', 'ggml-rpc.h'), 'utf8')
    const part = (name: string) => new RegExp(`RPC_PROTO_${name}_VERSION\\s+(\\d+)`).exec(header)?.[1] ?? '?'
    return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`
  } catch {
    return 'unknown'
  }
}

/** Seconds the last CUDA build took (the build script writes it), for the status and the bench. */
export function cudaBuildSeconds(build: EngineBuild): number | null {
  if (!build.builtCudaDir) return null
  try {
    return Number(readFileSync(join(build.builtCudaDir, 'build-seconds'), 'utf8'))
  } catch {
    return null
  }
}

/** node-llama-cpp's prebuilt binaries for this platform (one folder per GPU flavour). */
export function prebuiltDir(flavour: '' | 'cuda' | 'vulkan'): string | null {
  const name = `${process.platform}-${process.arch}${flavour ? `-${flavour}` : ''}`
  const dir = repoPath('node_modules', '@node-llama-cpp', name, 'bins', name)
  return existsSync(dir) ? dir : null
}
