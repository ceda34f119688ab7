/**
 * The models loaded on this peer, by name: their slots, and the memory they take, may still take
 * and could give back. The loader fills it, the idle sweep empties it, the registry and the
 * runners ask it.
 */
import { freemem } from 'node:os'
import type { EngineModel } from './engine/engine-model.ts'
import type { Resident } from './model-room.ts'

export interface MemoryLimits {
  /** The most memory models may take here (`--model-memory`); default: all that is free. */
  memoryLimitBytes?: number
  /** Memory this peer's RPC worker holds for others' splits: within the limit, and never evicted. */
  heldForSplits?: () => number
}

export class LoadedModels {
  readonly #models = new Map<string, EngineModel>()
  readonly #limits: MemoryLimits

  constructor(limits: MemoryLimits) {
    this.#limits = limits
  }

  get(name: string): EngineModel | undefined {
    return this.#models.get(name)
  }

  set(name: string, model: EngineModel): void {
    this.#models.set(name, model)
  }

  delete(name: string): void {
    this.#models.delete(name)
  }

  names(): string[] {
    return [...this.#models.keys()]
  }

  models(): EngineModel[] {
    return [...this.#models.values()]
  }

  entries(): [string, EngineModel][] {
    return [...this.#models]
  }

  /** A loaded model's slots and how many run now; null when it is not loaded. */
  slotsOf(name: string): { slots: number; busy: number } | null {
    const model = this.#models.get(name)
    return model ? { slots: model.slots, busy: model.busy } : null
  }

  /** Memory models may still take here: what is free, within the limit less what the loaded ones take. */
  freeBytes(): number {
    const limit = this.#limits.memoryLimitBytes
    if (limit === undefined) return freemem()
    const used = this.models().reduce((sum, m) => sum + m.memoryBytes, 0)
    const held = this.#limits.heldForSplits?.() ?? 0
    return Math.max(0, Math.min(freemem(), limit - used - held))
  }

  /** Memory the idle loaded models hold: what a load here may free by unloading them. */
  evictableBytes(): number {
    return this.models().reduce((sum, m) => sum + (m.busy === 0 ? m.memoryBytes : 0), 0)
  }

  /** What each loaded model takes and whether it may make room (model-room.ts plans with it). */
  residents(): Resident[] {
    return this.entries().map(([name, m]) => ({
      name,
      bytes: m.memoryBytes,
      busy: m.busy,
      lastUsedAt: m.lastUsedAt,
    }))
  }
}
