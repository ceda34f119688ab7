/**
 * Which backend the engine runs on: the GPU backends in order of preference (a CUDA backend built
 * here for the local GPUs, node-llama-cpp's prebuilt CUDA, its prebuilt Vulkan), then the CPU.
 * A GPU backend is used only once it has proved itself (a one-token decode of a tiny model in a
 * child process); one that fails is skipped with the error and what would fix it. Pure: the
 * candidates and verdicts come in, the choice and the report go out.
 */

import type { BackendKind } from './backend-table.ts'

export interface BackendCandidate {
  /** An id of backend-table.ts's (`cuda-built`, `cuda-prebuilt`, `vulkan-prebuilt`, `cpu`). */
  id: string
  kind: BackendKind
  /** Null when it can be tried; else why it is not (no such GPU, library not installed). */
  unavailable: string | null
}

export type BackendVerdict = { ok: true; checkedAt: string } | { ok: false; error: string; checkedAt: string }

export interface BackendReport {
  id: string
  kind: BackendKind
  /** `in use`, `passed, not needed`, `failed`, `not available`, `not tried`. */
  state: 'in use' | 'standby' | 'failed' | 'not available'
  /** Why: the self-test's error or why it is not available. */
  detail: string | null
  /** What would make it usable, for a failed GPU backend. */
  fix: string | null
}

export interface BackendChoice {
  chosen: BackendCandidate
  reports: BackendReport[]
}

export interface FixContext {
  /** The CUDA toolkit's compiler is on PATH. */
  nvcc: boolean
}

/**
 * The first candidate that is available and passed; candidates are in preference order and the
 * CPU is last. A candidate with no verdict yet is `needsProbe` (the caller probes it and asks again).
 */
export function planBackend(
  candidates: readonly BackendCandidate[],
  verdicts: ReadonlyMap<string, BackendVerdict>,
  fix: FixContext,
): BackendChoice | { needsProbe: BackendCandidate } {
  let chosen: BackendCandidate | null = null
  const reports: BackendReport[] = []
  for (const candidate of candidates) {
    const base = { id: candidate.id, kind: candidate.kind }
    if (candidate.unavailable !== null) {
      reports.push({ ...base, state: 'not available', detail: candidate.unavailable, fix: null })
      continue
    }
    const verdict = verdicts.get(candidate.id)
    // The CPU backend is the floor: it needs no proof before it is used.
    if (candidate.kind === 'cpu' && verdict === undefined) {
      reports.push({ ...base, state: chosen ? 'standby' : 'in use', detail: null, fix: null })
      chosen ??= candidate
      continue
    }
    if (verdict === undefined) {
      if (chosen === null) return { needsProbe: candidate }
      reports.push({ ...base, state: 'standby', detail: 'not tried: a preferred backend runs', fix: null })
      continue
    }
    if (!verdict.ok) {
      reports.push({
        ...base,
        state: 'failed',
        detail: verdict.error,
        fix: fixFor(candidate, verdict.error, fix),
      })
      continue
    }
    reports.push({ ...base, state: chosen ? 'standby' : 'in use', detail: null, fix: null })
    chosen ??= candidate
  }
  if (chosen === null) throw new Error('no backend can run: not even the CPU backend passed its self-test')
  return { chosen, reports }
}

/** What a person can do about a GPU backend that failed its self-test. */
export function fixFor(candidate: BackendCandidate, error: string, context: FixContext): string | null {
  if (candidate.kind === 'cuda') {
    const toolchain = /PTX|unsupported toolchain|driver version is insufficient|CUDA driver version/i.test(
      error,
    )
    const build = context.nvcc
      ? 'run `ripple engine build --gpu cuda` to build the CUDA backend for this GPU with the installed toolkit'
      : 'install the CUDA toolkit (nvcc) and run `ripple engine build --gpu cuda`'
    if (candidate.id === 'cuda-built') return 'rebuild it: `ripple engine build --gpu cuda --force`'
    return toolchain ? `update the NVIDIA driver, or ${build}` : build
  }
  if (candidate.kind === 'vulkan')
    return 'install or update the Vulkan driver of this GPU (mesa-vulkan-drivers or the vendor driver)'
  return null
}

/** One line for `ripple up` and `ripple status`: the backend in use and why the others are not. */
export function describeBackends(choice: BackendChoice): string {
  const others = choice.reports
    .filter((r) => r.id !== choice.chosen.id && r.state !== 'standby')
    .map((r) => `${r.id} ${r.state}${r.detail ? `: ${r.detail}` : ''}${r.fix ? ` (fix: ${r.fix})` : ''}`)
  return `engine backend: ${choice.chosen.id}${others.length ? `; ${others.join('; ')}` : ''}`
}
