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
import type { Failure } from '../../../interface/failure-kind.ts'

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
  | { outcome: 'invalid'; rule: string; message: string }
  | { outcome: 'unresolved'; deps: string[] }

export interface RulesValidator {
  validate(input: ValidationInput): ValidationOutcome
}

/** Rule ids that judge the author, not the entry (dnas/rules/src/membrane.rs). */
const AUTHOR_RULE = /\.(author_role|author_role_unknown|author_is_admin|no_progenitor)$/

/** Thrown when an entry breaks a rule; carries the rule's id and message. */
export class InvalidEntryError extends Error {
  static override readonly name = 'InvalidEntryError'
  // A rule about who may write it (a role, an admin) forbids the writer; any other, what it wrote.
  readonly failureKind: Failure
  constructor(
    readonly rule: string,
    /** What the rule found, without the rule's name. */
    readonly detail: string,
  ) {
    super(`${rule}: ${detail}`)
    this.name = 'InvalidEntryError'
    this.failureKind = AUTHOR_RULE.test(rule) ? 'forbidden' : 'invalid/unprocessable'
  }

  get details() {
    return { rule: this.rule }
  }
}

/**
 * Thrown when validation needs records this conductor does not hold (yet). To a caller, what it sent
 * names records unknown here.
 */
export class UnresolvedDependenciesError extends Error {
  static override readonly name = 'UnresolvedDependenciesError'
  readonly failureKind: Failure = 'invalid/unprocessable'
  constructor(readonly deps: string[]) {
    super(`unresolved dependencies: ${deps.join(', ')}`)
    this.name = 'UnresolvedDependenciesError'
  }

  get details() {
    return { deps: this.deps }
  }
}
