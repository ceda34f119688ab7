/**
 * A Holochain conductor tells why a zome call failed in text only. The rules' refusals are read out of
 * that text here, once, so the port throws the same typed refusals on either backend and callers
 * branch on the rule. The integrity zomes write a refusal `<rule>: <what it found>`
 * (dnas/shared/integrity_support); Holochain wraps it in its own error (`InvalidCommit`), the embedded
 * conductor's Holochain API under the error's name (`InvalidEntryError: `).
 */
import { InvalidEntryError, UnresolvedDependenciesError } from '../../interface/zome-refusal.ts'

// A rule id is dotted snake case (`task.author_role`); the wrapper may quote the refusal (`InvalidCommit("…")`).
const REFUSAL =
  /(?:InvalidCommit|InvalidEntryError).*?\b([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+): (.*?)(?:"\)*)?$/s
const UNRESOLVED = /UnresolvedDependenc/
const HASH = /\bu[A-Za-z0-9_-]{52}\b/g

/** The refusal a zome call's error text carries, or null when the rules did not refuse it. */
export function zomeRefusalOf(text: string): InvalidEntryError | UnresolvedDependenciesError | null {
  if (UNRESOLVED.test(text)) return new UnresolvedDependenciesError([...new Set(text.match(HASH))])
  const refused = REFUSAL.exec(text)
  return refused === null ? null : new InvalidEntryError(refused[1] ?? '', refused[2] ?? '')
}
