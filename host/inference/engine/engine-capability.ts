/**
 * What a peer advertises of its engine: the backend as a capability tag (`engine:cuda-prebuilt`,
 * `engine:cpu`; routing and `ripple peers` prefer GPU peers by it), the decode rate it measured, and
 * in heartbeats the slots free to start a request now.
 */
import type { BackendStatus } from './engine-backends.ts'
import type { EngineModel } from './engine-model.ts'

export function engineTags(status: BackendStatus | null): string[] {
  return status ? [`engine:${status.backend}`, `${ENGINE_BUILD_TAG}${status.engine_build}`] : []
}

/** The tag that names a peer's engine build (the split pairs only equal builds). */
const ENGINE_BUILD_TAG = 'llama:'

/** The engine build a peer's capability tags name; null when they name none. */
export function engineBuildOf(tags: readonly string[]): string | null {
  return tags.find((t) => t.startsWith(ENGINE_BUILD_TAG))?.slice(ENGINE_BUILD_TAG.length) ?? null
}

/** The best decode rate the loaded models measured (tokens/s); null before any generation. */
export function decodeRate(models: readonly EngineModel[]): number | null {
  const rates = models.flatMap((m) => (m.lastDecodeRate === null ? [] : [m.lastDecodeRate]))
  return rates.length > 0 ? Math.max(...rates) : null
}

/** Requests the loaded models can start now; null when none is loaded. */
export function freeSlots(models: readonly EngineModel[]): number | null {
  if (models.length === 0) return null
  return models.reduce((free, m) => free + Math.max(0, m.slots - m.busy), 0)
}
