/**
 * The rules' refusals read out of a Holochain conductor's error text, so the holochain backend throws
 * the port's typed refusals: the rule and what it found, however the text wraps them; the records the
 * rules wait for; nothing for an error that is not the rules'.
 */
import { describe, expect, it } from 'vitest'
import { zomeRefusalOf } from '../../../host/conductor/holochain/zome-refusal-text.ts'
import { InvalidEntryError, UnresolvedDependenciesError } from '../../../host/interface/zome-refusal.ts'

const HASH = `uhCkk${'A'.repeat(48)}`
const OTHER = `uhCkk${'B'.repeat(48)}`

describe('zomeRefusalOf', () => {
  it("reads the rule and what it found, as the embedded conductor's API and Holochain wrap them", () => {
    const texts = [
      'InvalidEntryError: task.author_role: a worker may not submit tasks',
      'Source chain error: InvalidCommit("task.author_role: a worker may not submit tasks")',
    ]
    for (const text of texts) {
      const refusal = zomeRefusalOf(text)
      expect(refusal, text).toBeInstanceOf(InvalidEntryError)
      expect(refusal, text).toMatchObject({
        rule: 'task.author_role',
        detail: 'a worker may not submit tasks',
        failureKind: 'forbidden',
      })
    }
  })

  it('reads the records the rules wait for, each once', () => {
    const refusal = zomeRefusalOf(
      `UnresolvedDependenciesError: unresolved dependencies: ${HASH}, ${OTHER}, ${HASH}`,
    )
    expect(refusal).toBeInstanceOf(UnresolvedDependenciesError)
    expect(refusal).toMatchObject({ deps: [HASH, OTHER] })
  })

  it("is null for a failure that is not the rules' refusal", () => {
    for (const text of [
      'ZomeFnNotExists(policy_store, nope)',
      'Wasm runtime error: task.author_role: unrelated',
    ])
      expect(zomeRefusalOf(text), text).toBeNull()
  })
})
