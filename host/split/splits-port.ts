/**
 * What the rest of the node asks of the splits this peer heads: a model loaded split over the mesh
 * (the inference workers and `?split=1`), the splits as shown, and the split worker's cache.
 */
import type { ModelsPort } from '../inference/models-port.ts'
import type { LongOperationOptions } from '../interface/progress.ts'
import type { Startable } from '../interface/startable.ts'
import type { CacheUse } from './rpc-cache.ts'

/** A split as `ripple models ls`, the API and the dashboard show it. */
export interface SplitView {
  model: string
  /** Head first. */
  peers: { agent: string; share: number; layers: number; bytes: number }[]
  /** Bytes the tunnels carried. */
  bytes_carried: number
}

export interface SplitsPort extends Startable {
  /** What the split worker's tensor cache holds against its cap (null until first kept). */
  cacheUse(): CacheUse | null
  views(): SplitView[]
  /** `name` loaded split over the mesh with this peer as its head, or whole here when it fits. */
  load(name: string, options?: LongOperationOptions): ReturnType<ModelsPort['load']>
}
