import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { OWN_STATEMENT, UNSTATED } from '../../../host/interface/release.ts'
import { PeerVersions } from '../../../host/net/mesh-versions.ts'

const newer = { release: '0.3.0', protocols: { ...OWN_STATEMENT.protocols, direct: 2, teleport: 1 } }
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

  it('logs a peer once per change: a warning for a protocol gap, a note for another release alone', () => {
    const lines: { level: number; msg: string }[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) })
    const versions = new PeerVersions({ own, self: 'me', logger })
    versions.record('new', newer)
    versions.record('new', { ...newer })
    versions.record('patch', { ...own, release: '0.2.1' })
    versions.record('new', own)
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'peer new runs Ripple 0.3.0 (teleport 1), this peer 0.2.0 (teleport none): upgrade this peer'],
      [30, 'peer patch runs Ripple 0.2.1, this peer 0.2.0: both speak the same protocol versions'],
    ])
  })

  it('gates on the members it is told of, once told', () => {
    const versions = new PeerVersions({ own, self: 'me' })
    versions.record('old', UNSTATED)
    expect(versions.everySpeaks('direct', 2)).toBe(false)
    versions.useMembers(() => ['me'])
    expect(versions.everySpeaks('direct', 2)).toBe(true)
  })
  it("keeps members' statements when strangers' hellos overflow what it keeps", () => {
    const versions = new PeerVersions({ own, self: 'me', members: () => ['member'] })
    versions.record('member', newer)
    for (let i = 0; i < 5000; i++) versions.record(`stranger-${i}`, UNSTATED)
    expect(versions.of('member')).toEqual(newer)
    expect(versions.of('stranger-0')).toBeUndefined()
    expect(versions.of('stranger-4999')).toEqual(UNSTATED)
    expect(versions.everySpeaks('direct', 2)).toBe(true)
  })

  describe('what an earlier run heard', () => {
    const recorded = { statement: own, at: 1_000 }

    it('gates as heard: every member recalled speaking it lets the new form through at once', () => {
      const versions = new PeerVersions({ own, self: 'me', members: () => ['a', 'b'] })
      expect(versions.everySpeaks('record', 1)).toBe(false)
      versions.recall([
        { agent: 'a', ...recorded },
        { agent: 'b', ...recorded },
      ])
      expect(versions.everySpeaks('record', 1)).toBe(true)
    })

    it('yields to what this run heard, before and after', () => {
      const versions = new PeerVersions({ own, self: 'me', members: () => ['a', 'b'], now: () => 5_000 })
      versions.record('a', UNSTATED)
      versions.recall([
        { agent: 'a', ...recorded },
        { agent: 'b', ...recorded },
      ])
      expect(versions.of('a')).toEqual(UNSTATED)
      versions.record('a', own)
      versions.record('b', UNSTATED)
      expect(versions.everySpeaks('record', 1)).toBe(false)
      expect(versions.heard()).toEqual([
        { agent: 'a', statement: own, at: 5_000 },
        { agent: 'b', statement: UNSTATED, at: 5_000 },
      ])
    })

    it('calls back on a statement new or changed, not on the same one again nor on a recall', () => {
      const versions = new PeerVersions({ own, self: 'me' })
      const changes: string[] = []
      const remove = versions.onChange(() =>
        changes.push([...versions.heard()].map((h) => h.statement.release).join()),
      )
      versions.recall([{ agent: 'a', ...recorded }])
      versions.record('a', { ...own })
      versions.record('b', own)
      versions.record('b', own)
      versions.record('a', UNSTATED)
      remove()
      versions.record('a', own)
      expect(changes).toEqual(['0.2.0,0.2.0', '0.2.0,0.1.0'])
    })

    it('logs a recalled peer once more when this run hears it', () => {
      const lines: { msg: string }[] = []
      const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) })
      const versions = new PeerVersions({ own, self: 'me', logger })
      versions.recall([{ agent: 'patch', statement: { ...own, release: '0.2.1' }, at: 1_000 }])
      versions.record('patch', { ...own, release: '0.2.1' })
      versions.record('patch', { ...own, release: '0.2.1' })
      expect(lines.map((l) => l.msg)).toEqual([
        'peer patch runs Ripple 0.2.1, this peer 0.2.0: both speak the same protocol versions',
      ])
    })
  })
})
