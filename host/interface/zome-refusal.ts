/**
 * How the conductor port says the rules refused a zome call's write, whichever backend sits behind it:
 * the rule that refused (its id, `task.author_role`), what it found and, for a requester's record, which
 * leaf's runner proof it refused; or the records the rules need that the conductor does not hold yet.
 * Callers branch on these, never on a message's text.
 */
import type { Failure } from './failure-kind.ts'

/**
 * The rules (by name, after `<entry>.`) that judge the author, not the entry: dnas/rules/src/membrane.rs
 * and policy_store.rs; tests/unit/interface/zome-refusal.test.ts reads them there, so they cannot drift.
 */
export const AUTHOR_RULES = [
  'author_role',
  'author_role_unknown',
  'author_is_admin',
  'no_progenitor',
] as const
const AUTHOR_RULE = new RegExp(`\\.(${AUTHOR_RULES.join('|')})$`)

/** Thrown when an entry breaks a rule; carries the rule's id and what it found. */
export class InvalidEntryError extends Error {
  static override readonly name = 'InvalidEntryError'
  // A rule about who may write it (a role, an admin) forbids the writer; any other, what it wrote.
  readonly failureKind: Failure
  constructor(
    readonly rule: string,
    /** What the rule found, without the rule's name. */
    readonly detail: string,
    /**
     * The leaf of a ServedLeaves whose runner's proof the rule refused (its index in `leaves`), as the
     * rules say it; null for any other refusal, and where the conductor gives text only (Holochain).
     */
    readonly leaf: number | null = null,
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
