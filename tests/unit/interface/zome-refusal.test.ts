/**
 * The host's rule ids are the Rust crate's: every rule AUTHOR_RULES names is one that the rules spell
 * (`ck.rule("…")` / `ck.fail("…")` in dnas/rules/src), and every rule of membrane.rs about who wrote
 * an entry (its role, an admin, a progenitor) is one AUTHOR_RULES names; a refusal by one of them
 * forbids the writer, any other is of what it wrote. A refusal names a leaf only when the rules said so.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AUTHOR_RULES, InvalidEntryError } from '../../../host/interface/zome-refusal.ts'
import { REPO_ROOT } from '../../e2e/ripple-process.ts'

const SRC = join(REPO_ROOT, 'dnas/rules/src')
const rulesOf = (file: string) =>
  [...readFileSync(join(SRC, file), 'utf8').matchAll(/ck\.(?:rule|fail)\("([a-z_]+)"/g)].map((m) => m[1]!)
const rustRules = new Set(
  readdirSync(SRC)
    .filter((f) => f.endsWith('.rs'))
    .flatMap(rulesOf),
)

describe('rule ids the host reads', () => {
  it('are spelt by the Rust rules, and name every rule of membrane.rs about the author', () => {
    expect(AUTHOR_RULES.filter((rule) => !rustRules.has(rule))).toEqual([])
    const aboutTheAuthor = rulesOf('membrane.rs').filter((r) => /^(author_|no_progenitor)/.test(r))
    expect(aboutTheAuthor.filter((r) => !(AUTHOR_RULES as readonly string[]).includes(r))).toEqual([])
  })

  it.each([
    ['task.author_role', 'forbidden'],
    ['policy_bundle.author_is_admin', 'forbidden'],
    ['node_capability.no_progenitor', 'forbidden'],
    ['task.author_role_count', 'invalid/unprocessable'],
    ['served_leaves.proof_invalid', 'invalid/unprocessable'],
  ])('%s refuses as %s', (rule, kind) => {
    expect(new InvalidEntryError(rule, 'what it found').failureKind).toBe(kind)
  })

  it('names the leaf of a refused proof only when the rules name one', () => {
    expect(new InvalidEntryError('served_leaves.proof_invalid', 'x', 2).leaf).toBe(2)
    expect(new InvalidEntryError('served_leaves.root_mismatch', 'x').leaf).toBeNull()
  })
})
