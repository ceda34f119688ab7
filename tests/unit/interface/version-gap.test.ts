import { describe, expect, it } from 'vitest'
import { UNSTATED } from '../../../host/interface/release.ts'
import {
  compareReleases,
  gapText,
  missingVersionText,
  newerFormatText,
  protocolGaps,
} from '../../../host/interface/version-gap.ts'

const v020 = { release: '0.2.0', protocols: { hello: 2, signals: 1, direct: 2 } }
const v030 = { release: '0.3.0', protocols: { hello: 3, signals: 1, direct: 3, teleport: 1 } }

describe('protocol gaps', () => {
  it('ignores the hello (negotiated) and equal versions, and names protocols one side lacks', () => {
    expect(protocolGaps(v020, v030)).toEqual([
      { protocol: 'direct', ours: 2, theirs: 3 },
      { protocol: 'teleport', ours: null, theirs: 1 },
    ])
    expect(
      protocolGaps(v020, { ...v020, release: '0.2.1', protocols: { ...v020.protocols, hello: 9 } }),
    ).toEqual([])
  })

  it.each([
    ['0.2.0', '0.10.0', -1],
    ['1.0.0', '0.9.9', 1],
    ['0.2.0', '0.2', 0],
    ['0.2.0-rc.1', '0.2.0', 0],
  ])('compares %s with %s', (a, b, order) => expect(compareReleases(a, b)).toBe(order))
})

describe('gap text', () => {
  it.each([
    [
      v020,
      v030,
      'peer X runs Ripple 0.3.0 (direct 3, teleport 1), this peer 0.2.0 (direct 2, teleport none): upgrade this peer',
    ],
    [
      v030,
      v020,
      'peer X runs Ripple 0.2.0 (direct 2, teleport none), this peer 0.3.0 (direct 3, teleport 1): upgrade X',
    ],
    [
      { release: '0.4.0', protocols: { direct: 1, invite: 2 } },
      { release: '0.3.0', protocols: { direct: 2, invite: 1 } },
      'peer X runs Ripple 0.3.0 (direct 2, invite 1), this peer 0.4.0 (direct 1, invite 2): upgrade X',
    ],
  ])('names both releases, the versions and who upgrades', (own, theirs, text) => {
    expect(gapText('X', own, theirs)).toBe(text)
  })

  it('says nothing when every protocol matches', () => {
    expect(gapText('X', UNSTATED, { ...UNSTATED, release: '0.1.1' })).toBeNull()
  })
})

describe('missing version text', () => {
  it.each([
    [[2], [1], '0.1.0', 'peer X speaks direct-infer 1 only (Ripple 0.1.0); this peer needs 2: upgrade X'],
    [
      [2, 1],
      [4, 3],
      '0.5.0',
      'peer X speaks direct-infer 4, 3 (Ripple 0.5.0); this peer speaks 2 or 1 only: upgrade this peer',
    ],
    [[2], [], '0.2.0', 'peer X does not serve direct-infer (Ripple 0.2.0); this peer speaks direct-infer 2'],
    [[2], [1], undefined, 'peer X speaks direct-infer 1 only; this peer needs 2: upgrade X'],
  ])('needs %j, spoken %j', (need, spoken, release, text) => {
    expect(missingVersionText('X', 'direct-infer', need, spoken, release)).toBe(text)
  })
})

describe('newer format text', () => {
  it('names both formats and who upgrades', () => {
    expect(newerFormatText('this invite was made', 'invite format 2', 1, '0.2.0')).toBe(
      'this invite was made by a newer Ripple (invite format 2); this peer 0.2.0 reads format 1: upgrade this peer',
    )
  })
})
