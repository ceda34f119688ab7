/**
 * Runs the rules on one entry op, resolving the records the rules ask for (`unresolved`) and asking
 * again, as Holochain re-runs validation once UnresolvedDependencies are fetched.
 */
import {
  InvalidEntryError,
  type ResolvedDependency,
  type RulesValidator,
  UnresolvedDependenciesError,
  type ValidationInput,
} from './validator.ts'

/** Each round can only add dependencies; rules that keep asking for more after this are broken. */
const MAX_ROUNDS = 8

/**
 * Throws InvalidEntryError when a rule refuses the op, UnresolvedDependenciesError when the rules need
 * records that `resolve` cannot find; returns when the op is valid.
 */
export function validateEntry(
  validator: RulesValidator,
  input: Omit<ValidationInput, 'deps'>,
  resolve: (actionHashB64: string) => ResolvedDependency | null,
): void {
  const deps: Record<string, ResolvedDependency> = {}
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const outcome = validator.validate({ ...input, deps: { ...deps } })
    if (outcome.outcome === 'valid') return
    if (outcome.outcome === 'invalid')
      throw new InvalidEntryError(outcome.rule, outcome.message, outcome.leaf ?? null)
    const wanted = outcome.deps.filter((hash) => !(hash in deps))
    // Asking again for what was already given cannot converge.
    if (wanted.length === 0) throw new UnresolvedDependenciesError(outcome.deps)
    const missing: string[] = []
    for (const hash of wanted) {
      const dep = resolve(hash)
      if (dep === null) missing.push(hash)
      else deps[hash] = dep
    }
    if (missing.length > 0) throw new UnresolvedDependenciesError(missing)
  }
  throw new UnresolvedDependenciesError(Object.keys(deps))
}
