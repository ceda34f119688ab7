/**
 * The engine's backend for this machine: the candidates (backend-dir.ts), each GPU one proved by the
 * self-test (backend-probe.ts) once per backend build and driver (verdicts are kept beside the build,
 * keyed by the libraries' size and mtime and the driver's version), the choice (backend-plan.ts),
 * and the blame when an engine process crashes: a crash the tiny model reproduces on the same
 * backend is the backend's fault (it is marked failed and the next one is used), never the file's.
 */
import { existsSync, readFileSync } from 'node:fs'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../log/logger.ts'
import { backendCandidates, backendDir, runtimeEnv } from './backend-dir.ts'
import {
  type BackendCandidate,
  type BackendChoice,
  type BackendReport,
  type BackendVerdict,
  describeBackends,
  planBackend,
} from './backend-plan.ts'
import { probeBackend, probeModel } from './backend-probe.ts'
import { backendSpec } from './backend-table.ts'
import { type EngineBuild, engineBuild } from './engine-build.ts'

export interface ActiveBackend {
  candidate: BackendCandidate
  /** The folder llama-server runs from. */
  dir: string
  env: Record<string, string>
}

export interface EngineBackendsInit {
  logger: Logger
  /** Default: the build of the bundled source (engine-build.ts). */
  build?: EngineBuild
  /** Default: read from /dev (NVIDIA device nodes, DRI render nodes). */
  devices?: { nvidia: boolean; vulkan: boolean }
  /** Backend libraries to use instead of node-llama-cpp's, by candidate id (the tests' stand-ins). */
  libraries?: Readonly<Record<string, string>>
}

export interface BackendStatus {
  backend: string
  kind: BackendCandidate['kind']
  summary: string
  backends: BackendReport[]
  /** The engine build (source commit and RPC protocol), e.g. `de3ff815ea7d/rpc7.0.0`. */
  engine_build: string
}

interface StoredVerdict {
  fingerprint: string
  verdict: BackendVerdict
}

export class EngineBackends {
  #build: EngineBuild | null
  #active: ActiveBackend | null = null
  #choice: BackendChoice | null = null
  #verdicts = new Map<string, StoredVerdict>()
  #selecting: Promise<ActiveBackend> | null = null

  readonly #init: EngineBackendsInit

  constructor(init: EngineBackendsInit) {
    this.#init = init
    this.#build = init.build ?? null
  }

  async build(): Promise<EngineBuild> {
    this.#build ??= await engineBuild()
    return this.#build
  }

  /** The backend to run on, chosen (and the GPU ones proved) on the first call. */
  active(signal?: AbortSignal): Promise<ActiveBackend> {
    if (this.#active) return Promise.resolve(this.#active)
    this.#selecting ??= this.#select(signal).finally(() => {
      this.#selecting = null
    })
    return this.#selecting
  }

  status(): BackendStatus | null {
    if (!this.#choice || !this.#build) return null
    return {
      backend: this.#choice.chosen.id,
      kind: this.#choice.chosen.kind,
      summary: describeBackends(this.#choice),
      backends: this.#choice.reports,
      engine_build: this.#build.id,
    }
  }

  /**
   * An engine process on `backend` crashed: probe the backend again with the tiny model. If that
   * crashes too, the backend is at fault: it is marked failed, the next backend takes over, and true
   * comes back (the file is not to blame). False: the backend is fine, the file is at fault.
   */
  async blameBackend(backend: ActiveBackend): Promise<boolean> {
    const build = await this.build()
    const verdict = await probeBackend(backend, await probeModel(build.root))
    if (verdict.ok) return false
    this.#init.logger.warn(
      { backend: backend.candidate.id, error: verdict.error },
      'the engine backend crashed on the probe model too: it is at fault, not the model file',
    )
    await this.#remember(backend.candidate, verdict)
    if (this.#active?.candidate.id === backend.candidate.id) this.#active = null
    // The CPU backend has no next one; it stays, and the crash is reported as it is.
    if (backend.candidate.kind === 'cpu') return true
    await this.active()
    return true
  }

  async #select(signal?: AbortSignal): Promise<ActiveBackend> {
    const build = await this.build()
    await this.#loadVerdicts(build)
    const candidates = backendCandidates(build, this.#init.devices ?? detectDevices())
    for (;;) {
      const verdicts = new Map<string, BackendVerdict>()
      for (const candidate of candidates) {
        const stored = this.#verdicts.get(candidate.id)
        if (stored && stored.fingerprint === (await this.#fingerprint(candidate)))
          verdicts.set(candidate.id, stored.verdict)
      }
      const plan = planBackend(candidates, verdicts, { nvcc: onPath('nvcc') })
      if ('needsProbe' in plan) {
        const target = await this.#target(plan.needsProbe)
        this.#init.logger.info({ backend: plan.needsProbe.id }, 'self-testing engine backend')
        const verdict = await probeBackend(target, await probeModel(build.root), signal)
        await this.#remember(plan.needsProbe, verdict)
        continue
      }
      this.#choice = plan
      this.#active = await this.#target(plan.chosen)
      this.#init.logger.info({ backend: plan.chosen.id }, describeBackends(plan))
      return this.#active
    }
  }

  async #target(candidate: BackendCandidate): Promise<ActiveBackend> {
    const build = await this.build()
    const override = this.#init.libraries?.[candidate.id]
    const dir = await backendDir(build, candidate, override ? [override] : [])
    return { candidate, dir, env: runtimeEnv(candidate) }
  }

  async #remember(candidate: BackendCandidate, verdict: BackendVerdict): Promise<void> {
    this.#verdicts.set(candidate.id, { fingerprint: await this.#fingerprint(candidate), verdict })
    const build = await this.build()
    await writeFile(
      join(build.root, 'verdicts.json'),
      JSON.stringify(Object.fromEntries(this.#verdicts), null, 2),
    )
  }

  async #loadVerdicts(build: EngineBuild): Promise<void> {
    try {
      const stored = JSON.parse(await readFile(join(build.root, 'verdicts.json'), 'utf8')) as Record<
        string,
        StoredVerdict
      >
      for (const [id, entry] of Object.entries(stored))
        if (!this.#verdicts.has(id)) this.#verdicts.set(id, entry)
    } catch {
      // None yet, or unreadable: the backends are probed again.
    }
  }

  /** The backend's libraries (size, mtime) and the GPU driver's version: a change means a new probe. */
  async #fingerprint(candidate: BackendCandidate): Promise<string> {
    const target = await this.#target(candidate)
    const parts: string[] = [driverVersion()]
    const lib = backendSpec(candidate.id).library ?? 'llama-server'
    const info = await stat(join(target.dir, lib)).catch(() => null)
    parts.push(info ? `${info.size}:${Math.round(info.mtimeMs)}` : 'missing')
    return parts.join('|')
  }
}

function detectDevices(): { nvidia: boolean; vulkan: boolean } {
  return { nvidia: existsSync('/dev/nvidia0'), vulkan: existsSync('/dev/dri/renderD128') }
}

function driverVersion(): string {
  try {
    return readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0] ?? ''
  } catch {
    return 'no nvidia driver'
  }
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, command)))
}
