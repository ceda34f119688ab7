import { describe, expect, it } from 'vitest'
import {
  ISSUED_AT_SKEW_MS,
  judgeRedemption,
  type WitnessView,
} from '../../../host/membership/admission-judge.ts'
import type { InviteGrant } from '../../../host/membership/invite-schema.ts'

const NET = 'a'.repeat(64)
const ISSUED = 1_763_700_000_000
const grant: InviteGrant = {
  network_id: NET,
  role: 'worker',
  invite_id: '0'.repeat(32),
  issued_at: ISSUED,
  expires_at: ISSUED + 3_600_000,
  issuer: 'uhCAkEdBcXi9coVz6si7jd7mdVWYGf-f-Go3QvNnTiUP-t1PIuvsF',
  uses: 1,
  witnessed: true,
}
const view: WitnessView = { networkId: NET, role: 'admin', nowMs: ISSUED + 60_000, redeemedBy: new Set() }
const redemption = { grant, agent: 'joiner', signedByIssuer: true }

describe('judgeRedemption: by the witness’s clock and record', () => {
  it.each([
    ['in time, unused, by an admin', {}, {}, null],
    ['by a member', {}, { role: 'member' }, null],
    ['at the expiry instant', {}, { nowMs: grant.expires_at }, null],
    ['issued ahead of the witness’s clock within the skew', {}, { nowMs: ISSUED - ISSUED_AT_SKEW_MS }, null],
    ['again by the agent that redeemed it', {}, { redeemedBy: new Set(['joiner']) }, null],
    [
      'a millisecond past expiry',
      {},
      { nowMs: grant.expires_at + 1 },
      /expired at .* by this member's clock/,
    ],
    ['issued past the skew', {}, { nowMs: ISSUED - ISSUED_AT_SKEW_MS - 1 }, /is not valid yet: issued at/],
    [
      'used by another agent',
      {},
      { redeemedBy: new Set(['first']) },
      /admits 1 machine\(s\) and was used already \(by first\)/,
    ],
    ['forged', { signedByIssuer: false }, {}, /is not signed by its issuer/],
    ['for another mesh', { grant: { ...grant, network_id: 'b'.repeat(64) } }, {}, /is for another mesh/],
  ] as const)('%s', (_, r, w, why) => {
    const judged = judgeRedemption({ ...redemption, ...r }, { ...view, ...w })
    if (why === null) expect(judged).toBeNull()
    else expect(judged).toEqual({ why: expect.stringMatching(why), final: true })
  })

  it('a second use is counted within what the grant admits', () => {
    const two = { ...redemption, grant: { ...grant, uses: 2 } }
    expect(judgeRedemption(two, { ...view, redeemedBy: new Set(['first']) })).toBeNull()
    expect(judgeRedemption(two, { ...view, redeemedBy: new Set(['first', 'second']) })?.final).toBe(true)
  })

  it('a worker or a peer of an open mesh does not witness, and another member may', () => {
    for (const role of ['worker', null] as const) {
      expect(judgeRedemption(redemption, { ...view, role })).toEqual({
        why: expect.stringMatching(/does not witness redemptions/),
        final: false,
      })
    }
  })
})
