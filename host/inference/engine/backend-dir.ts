/**
 * A backend folder: llama-server, ggml-rpc-server and their libraries, plus the backend libraries of
 * one candidate (node-llama-cpp's prebuilt CPU variants, its prebuilt CUDA or Vulkan library, or a
 * CUDA library built here). ggml loads every `libggml-<name>*.so` it finds beside the executable
 * (the best scoring CPU variant), so one folder per candidate decides what the engine can use.
 * The executables are hard links (the folder of /proc/self/exe is where ggml looks; a symbolic
 * link would resolve to the build folder); libraries are symbolic links.
 */
import { existsSync } from 'node:fs'
import { copyFile, link, mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BackendCandidate } from './backend-plan.ts'
import { BACKENDS, type BackendSource, backendSpec } from './backend-table.ts'
import { type EngineBuild, prebuiltDir } from './engine-build.ts'

const EXECUTABLES = ['llama-server', 'ggml-rpc-server']
const CPU_VARIANT = /^libggml-cpu-.+\.so$/

/** Where a backend's own library lies, when it is there. */
function libraryDir(build: EngineBuild, source: BackendSource): string | null {
  // CUDA is the one backend built here so far; a second one would get its folder in EngineBuild.
  if (source.from === 'built') return source.gpu === 'cuda' ? build.builtCudaDir : null
  return prebuiltDir(source.flavour)
}

const NO_DEVICE = { nvidia: 'no NVIDIA GPU found', vulkan: 'no Vulkan device found' }

/**
 * Every candidate this machine could run, in the table's order of preference (the CPU last); a
 * backend built here is listed only once it is built.
 */
export function backendCandidates(
  build: EngineBuild,
  devices: { nvidia: boolean; vulkan: boolean },
): BackendCandidate[] {
  return BACKENDS.flatMap((spec): BackendCandidate[] => {
    const dir = spec.source && libraryDir(build, spec.source)
    if (spec.source?.from === 'built' && !dir) return []
    const noDevice = spec.device && !devices[spec.device] ? NO_DEVICE[spec.device] : null
    const missing = spec.source?.from === 'prebuilt' && !dir ? spec.source.missing : null
    return [{ id: spec.id, kind: spec.kind, unavailable: noDevice ?? missing }]
  })
}

/** The libraries a candidate adds to the build's own (absolute paths). */
async function backendLibraries(build: EngineBuild, candidate: BackendCandidate): Promise<string[]> {
  const cpu = prebuiltDir('')
  const cpuVariants = cpu
    ? (await readdir(cpu)).filter((f) => CPU_VARIANT.test(f)).map((f) => join(cpu, f))
    : []
  const spec = backendSpec(candidate.id)
  if (!spec.source || !spec.library) return cpuVariants
  return [...cpuVariants, join(libraryDir(build, spec.source) ?? '', spec.library)]
}

/**
 * The folder for `candidate` under the build, made once (a build or node-llama-cpp update gives
 * another build folder). `extra` adds libraries (the tests' stand-in backend).
 */
export async function backendDir(
  build: EngineBuild,
  candidate: BackendCandidate,
  extra: readonly string[] = [],
): Promise<string> {
  const dir = join(build.root, 'backends', candidate.id)
  if (existsSync(join(dir, '.complete')) && extra.length === 0) return dir
  const staging = `${dir}.${process.pid}.tmp`
  await rm(staging, { recursive: true, force: true })
  // Never writable by others whatever the umask: it holds the executables this daemon runs.
  await mkdir(staging, { recursive: true, mode: 0o755 })
  for (const name of await readdir(build.binDir)) {
    const from = join(build.binDir, name)
    if (EXECUTABLES.includes(name))
      await link(from, join(staging, name)).catch(() => copyFile(from, join(staging, name)))
    else if (name.endsWith('.so') || /\.so\.\d/.test(name)) await symlink(from, join(staging, name))
  }
  for (const lib of [...(await backendLibraries(build, candidate)), ...extra]) {
    const name = lib.slice(lib.lastIndexOf('/') + 1)
    await rm(join(staging, name), { force: true })
    await symlink(lib, join(staging, name))
  }
  await writeFile(join(staging, '.complete'), '')
  await rm(dir, { recursive: true, force: true })
  await rename(staging, dir)
  return dir
}

/** The library folders a GPU runtime needs on the loader's path (the CUDA toolkit's, when installed). */
export function runtimeEnv(candidate: BackendCandidate): Record<string, string> {
  if (candidate.kind !== 'cuda') return {}
  const dirs = ['/usr/local/cuda/lib64', '/usr/local/cuda/targets/x86_64-linux/lib'].filter((d) =>
    existsSync(d),
  )
  const current = process.env.LD_LIBRARY_PATH
  return dirs.length ? { LD_LIBRARY_PATH: [...dirs, ...(current ? [current] : [])].join(':') } : {}
}

/** Layers on the GPUs of the folder's backend (all of its devices), or none on the CPU. */
export function offloadArgs(candidate: BackendCandidate): string[] {
  return ['-ngl', candidate.kind === 'cpu' ? '0' : '999']
}
