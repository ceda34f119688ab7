/**
 * Checks of an op from a peer that ingest and a get from holders both make: the entry it carries, as
 * it would be stored, and the rules wasm's verdict on it.
 */
import type { Action } from '@holochain/client'
import { decodeHashB64, holoHashKind } from '../../../identity/hash.ts'
import { TooDeepError } from '../../../interface/nesting-depth.ts'
import type { StoredEntry } from '../../../storage/chain-store.ts'
import { entryHashOfKind } from '../action.ts'
import type { Cell } from '../cell.ts'
import { UnknownTypeError } from '../errors.ts'
import { ActionTypes } from '../hc-enums.ts'
import type { RecordBeside } from '../validation/record-rules.ts'
import { InvalidEntryError, UnresolvedDependenciesError } from '../validation/validator.ts'

function isAgentKey(hashB64: string): boolean {
  try {
    return holoHashKind(decodeHashB64(hashB64)) === 'agent'
  } catch {
    return false
  }
}

/** The entry a Create/Update wrote, as it would be stored (its hash from its own bytes). */
export function entryOf(action: Action, bytes: Uint8Array | null): StoredEntry | null {
  if (bytes === null || (action.type !== ActionTypes.Create && action.type !== ActionTypes.Update))
    return null
  const kind = action.entry_type === 'Agent' ? 'Agent' : 'App'
  return { hash: entryHashOfKind(kind, bytes), kind, bytes }
}

/**
 * What the rules say of an action its author signed: valid; waits (what it builds on is not held here:
 * `needs`, records got from their holders, and `members`, agents whose genesis has not arrived, which
 * nobody is asked for: geneses reach every peer); or invalid, proof against its author. A trap in the rules is this peer's
 * failure, not the author's: it is thrown on. `beside`: records got from holders, not held here.
 */
export type RulesVerdict =
  | { kind: 'valid' }
  | { kind: 'waits'; needs: readonly string[]; members: readonly string[] }
  | { kind: 'invalid'; rule: string; reason: string }

export function judgeByRules(
  cell: Cell,
  action: Action,
  entry: StoredEntry | null,
  beside: readonly RecordBeside[] = [],
): RulesVerdict {
  try {
    cell.checkForeignAction(action, entry, beside)
    return { kind: 'valid' }
  } catch (err) {
    if (err instanceof UnresolvedDependenciesError) {
      const members = err.deps.filter(isAgentKey)
      return { kind: 'waits', needs: err.deps.filter((dep) => !isAgentKey(dep)), members }
    }
    if (err instanceof InvalidEntryError) return { kind: 'invalid', rule: err.rule, reason: err.detail }
    if (err instanceof UnknownTypeError)
      return { kind: 'invalid', rule: 'sys.entry_type', reason: err.message }
    // Signed by its author: no rules could read it (serde_json stops at 128 levels too).
    if (err instanceof TooDeepError) return { kind: 'invalid', rule: 'sys.entry', reason: err.message }
    throw err
  }
}
