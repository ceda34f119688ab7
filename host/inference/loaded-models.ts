/**
 * The models loaded on this peer, by name: their slots, and the memory they take (each holds its
 * reservation on the peer's memory budget), may still take and could give back. The loader fills it,
 * the idle sweep empties it, the registry and the runners ask it.
 */
import type { BudgetPort, Reservation } from '../interface/budget-port.ts'
import type { EngineModel } from './engine/engine-model.ts'
import type { Resident } from './model-room.ts'

/** What the loaded models take of the peer's memory budget: their reservations, within its limit. */
export type ModelBudget = Pick<BudgetPort, 'reserve' | 'free' | 'limitBytes'>

export class LoadedModels {
  readonly #models = new Map<string, EngineModel>()
  readonly #reservations = new Map<string, Reservation>()
  readonly #budget: ModelBudget

  constructor(budget: ModelBudget) {
    this.#budget = budget
  }

  /** Promises a model's memory before its load (the budget refuses past its limit). */
  reserve(name: string, bytes: number): Reservation {
    return this.#budget.reserve(`model ${name}`, bytes)
  }

  get(name: string): EngineModel | undefined {
    return this.#models.get(name)
  }

  /** A model loaded, holding `reservation` (settled to what the model takes) until it is deleted. */
  set(name: string, model: EngineModel, reservation: Reservation): void {
    reservation.settle(model.memoryBytes)
    this.#reservations.get(name)?.release()
    this.#reservations.set(name, reservation)
    this.#models.set(name, model)
  }

  delete(name: string): void {
    this.#reservations.get(name)?.release()
    this.#reservations.delete(name)
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

  /** Memory models may still take here: the budget's (what is free, within the limit less what is promised). */
  freeBytes(): number {
    return this.#budget.free()
  }

  /** Whether a limit holds models' memory (`--model-memory`): a load then makes room within it. */
  get limited(): boolean {
    return this.#budget.limitBytes !== undefined
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
