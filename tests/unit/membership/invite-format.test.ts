import { describe, expect, it } from 'vitest'
import { PROTOCOLS, RELEASE } from '../../../host/interface/release.ts'
import { InvalidInviteError, verifyInvite } from '../../../host/membership/invite.ts'

describe('an invite from a newer release', () => {
  it('is refused as newer, naming both formats, before its fields are judged', () => {
    const future = { ripple_invite: PROTOCOLS.invite + 1, grant: { uses: 3, teleport: true }, whatever: 1 }
    const refuse = () => verifyInvite(JSON.stringify(future))
    expect(refuse).toThrow(InvalidInviteError)
    expect(refuse).toThrow(
      `this invite was made by a newer Ripple (invite format ${PROTOCOLS.invite + 1}); ` +
        `this peer ${RELEASE} reads format ${PROTOCOLS.invite}: upgrade this peer`,
    )
  })

  it('of the format this release reads, is still judged strictly', () => {
    expect(() => verifyInvite(JSON.stringify({ ripple_invite: PROTOCOLS.invite, extra: 1 }))).toThrow(
      /the invite is malformed/,
    )
    expect(() => verifyInvite(JSON.stringify({ ripple_invite: 'two' }))).toThrow(/the invite is malformed/)
  })
})
