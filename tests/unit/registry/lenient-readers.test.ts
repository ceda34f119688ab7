/** The gate for heartbeat fields added after 0.1.0: every member states a release (hello/2), or none is told. */
import { describe, expect, it } from 'vitest'
import { OWN_STATEMENT, UNSTATED } from '../../../host/interface/release.ts'
import { PeerVersions } from '../../../host/net/mesh-versions.ts'
import { readersLenient } from '../../../host/registry/lenient-readers.ts'

describe('readersLenient', () => {
  it.each([
    ['every member states this release', [OWN_STATEMENT, OWN_STATEMENT], true],
    ['a 0.1.0 member (states none)', [OWN_STATEMENT, UNSTATED], false],
  ])('%s', (_, statements, lenient) => {
    const versions = new PeerVersions({ self: 'me' })
    for (const [i, statement] of statements.entries()) versions.record(`agent-${i}`, statement)
    expect(readersLenient(versions)).toBe(lenient)
  })

  it('is false without versions (nothing heard says so)', () => {
    expect(readersLenient(null)).toBe(false)
  })
})
