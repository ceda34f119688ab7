/**
 * The seam between the embedded conductor and the Rust rules (`dnas/rules`, run as wasm).
 *
 * The wasm module exports a plain ABI, no imports, no wasm-bindgen:
 *   alloc(len: u32) -> ptr
 *   dealloc(ptr: u32, len: u32)
 *   validate(ptr: u32, len: u32) -> u64   // (out_ptr << 32) | out_len, a UTF-8 JSON ValidationOutcome
 * The input is the UTF-8 JSON of a ValidationInput. The caller deallocs both buffers.
 *
 * Like Holochain's `ValidateCallbackResult::UnresolvedDependencies`, the rules may answer
 * `unresolved` with the hashes they need; the conductor resolves them into `deps` and asks again.
 */
import type { DnaName } from '../../../../zomes-bindings/index.ts'

// What the seam throws are the conductor port's own refusals.
export { InvalidEntryError, UnresolvedDependenciesError } from '../../../interface/zome-refusal.ts'

/** A record the rules depend on, resolved by the conductor (hashes are HoloHashB64 strings). */
export interface ResolvedDependency {
  action_hash: string
  author: string
  entry_type: string
  /** The decoded app entry, or null when the action carries none (a delete). */
  entry: unknown
  /** Set when this record is itself an update: the action it updated. */
  original_action_hash?: string
}

export interface ValidationInput {
  dna: DnaName
  /** Entry type name as in zomes-bindings (e.g. "NodeCapability"). */
  entry_type: string
  op: 'create' | 'update' | 'delete'
  /** HoloHashB64 of the agent who wrote the action. */
  author: string
  /** The decoded app entry (create/update), null for delete. */
  entry: unknown
  /** For update/delete: the record being updated or deleted. */
  original?: ResolvedDependency
  /** DNA properties (e.g. the progenitor key), as given in the network's DNA modifiers. */
  properties: Record<string, unknown>
  /** Other records the rules asked for, keyed by their HoloHashB64 action hash. */
  deps: Record<string, ResolvedDependency>
  /**
   * On a network that requires invites: the membrane proof of the author's genesis (its signature
   * checked when that genesis was stored), from which the rules read the author's role; null if none.
   */
  author_proof?: unknown
}

export type ValidationOutcome =
  | { outcome: 'valid' }
  /** `leaf`: the leaf of a ServedLeaves whose runner's proof the rule refused, when that is what it refused. */
  | { outcome: 'invalid'; rule: string; message: string; leaf?: number }
  | { outcome: 'unresolved'; deps: string[] }

export interface RulesValidator {
  validate(input: ValidationInput): ValidationOutcome
}
