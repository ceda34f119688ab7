import { describe, expect, it } from 'vitest'
import { OWN_STATEMENT, UNSTATED } from '../../../host/interface/release.ts'
import { PeerVersions } from '../../../host/net/mesh-versions.ts'

const newer = { release: '0.3.0', protocols: { ...OWN_STATEMENT.protocols, direct: 2 } }
const own = { release: '0.2.0', protocols: { ...OWN_STATEMENT.protocols, direct: 2 } }

describe('mesh versions', () => {
  it('answers for itself, what a peer said, and nothing for a peer never met', () => {
    const versions = new PeerVersions({ own, self: 'me' })
    versions.record('old', UNSTATED)
    expect(versions.of('me')).toBe(own)
    expect(versions.of('old')).toEqual(UNSTATED)
    expect(versions.of('stranger')).toBeUndefined()
  })

  it.each([
    ['every member speaks it', ['new'], 'direct', 2, true],
    ['a member speaks an older version', ['new', 'old'], 'direct', 2, false],
    ['a member never met counts as before 0.2.0', ['new', 'stranger'], 'direct', 2, false],
    ['a member never met still reads version 1', ['new', 'stranger'], 'direct', 1, true],
    ['this peer does not speak it yet', ['new'], 'direct', 3, false],
    ['this peer alone', [], 'direct', 2, true],
    ['a protocol nobody states', ['new'], 'invite', 7, false],
  ])('%s', (_, members, protocol, version, speaks) => {
    const versions = new PeerVersions({ own, self: 'me', members: () => members })
    versions.record('new', newer)
    versions.record('old', UNSTATED)
    expect(versions.everySpeaks(protocol as 'direct', version)).toBe(speaks)
  })

  it('gates on the members it is told of, once told', () => {
    const versions = new PeerVersions({ own, self: 'me' })
    versions.record('old', UNSTATED)
    expect(versions.everySpeaks('direct', 2)).toBe(false)
    versions.useMembers(() => ['me'])
    expect(versions.everySpeaks('direct', 2)).toBe(true)
  })
})
