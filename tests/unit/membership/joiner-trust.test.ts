/**
 * Issue 55, items 4 and 12 at the unit level: a statement kept in `admission.json` is checked again at
 * start and dropped (with a line) when it could not admit this agent, so a bad file never holds a
 * data dir; and an invite says which release it needs, in the file and when a release too old reads it.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadNetworkConfig } from '../../../host/config/network-config.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../../host/identity/keystore.ts'
import { signStatement, type WitnessStatement } from '../../../host/identity/membrane-grant.ts'
import { RELEASE } from '../../../host/interface/release.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { ADMISSION_FILE, witnessedMesh } from '../../../host/membership/admission-request.ts'
import {
  createInvite,
  membraneProofOf,
  networkIdHex,
  releaseNeededBy,
  verifyInvite,
  WITNESSED_SINCE,
} from '../../../host/membership/invite.ts'
import type { Invite } from '../../../host/membership/invite-schema.ts'
import { privateMeshOf } from '../../../host/membership/private-mesh.ts'

const HOUR = 3_600_000
let dir: string
let admin: AgentKey
let joiner: AgentKey
let stranger: AgentKey
let mesh: NetworkConfig
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-joiner-trust-'))
  admin = await openAgentKey(join(dir, 'admin'))
  joiner = await openAgentKey(join(dir, 'joiner'))
  stranger = await openAgentKey(join(dir, 'stranger'))
  mesh = privateMeshOf(await loadNetworkConfig('local'), encodeHashB64(admin.agentPubKey))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('a kept witness statement is checked again at start', () => {
  const invite = () =>
    createInvite({ network: mesh, role: 'member', expiresInMs: HOUR, witnessed: true }, admin)
  const statementOf = (i: Invite, over: Partial<WitnessStatement>, by: AgentKey) => {
    const statement: WitnessStatement = {
      network_id: networkIdHex(mesh),
      invite_id: i.grant.invite_id,
      agent: encodeHashB64(joiner.agentPubKey),
      witnessed_at: Date.now() * 1000,
      witness: encodeHashB64(by.agentPubKey),
      ...over,
    }
    return { statement, signature: signStatement(statement, by) }
  }

  it.each<[string, (i: Invite) => unknown, RegExp]>([
    ['for another mesh', (i) => statementOf(i, { network_id: 'f'.repeat(64) }, admin), /for another mesh/],
    [
      'from a non-member, with proofs that do not show it one',
      (i) => ({
        ...statementOf(i, {}, stranger),
        member: [{ agent: encodeHashB64(stranger.agentPubKey), grant: i.grant, signature: i.signature }],
      }),
      /its witness is not shown a member of this mesh/,
    ],
    [
      'dated after the invite expired',
      (i) => statementOf(i, { witnessed_at: (i.grant.expires_at + 1) * 1000 }, admin),
      /outside the invite's validity/,
    ],
    ['not a statement at all', () => ({ hello: 1 }), /not a witness statement/],
  ])('drops one %s, says so, and asks a member again', async (_, kept, why) => {
    const i = invite()
    const path = join(dir, 'joiner', ADMISSION_FILE)
    await writeFile(path, JSON.stringify(kept(i)))
    const lines: string[] = []
    const chosen = { network: mesh, how: 'kept' as const, membraneProof: membraneProofOf(i) }
    const asking = witnessedMesh(chosen, {
      dataDir: join(dir, 'joiner'),
      logger: silentLogger(),
      onProgress: (line) => lines.push(line),
      signal: AbortSignal.abort(),
    })
    // The signal is aborted: it got as far as asking a member.
    await expect(asking).rejects.toThrow(/aborted/)
    expect(lines[0]).toMatch(new RegExp(`dropped the witness statement kept in .*${ADMISSION_FILE}: .*`))
    expect(lines[0]).toMatch(why)
    await expect(stat(path)).rejects.toThrow(/ENOENT/)
  })

  it('keeps one its witness is shown a member by (the progenitor needs no proof)', async () => {
    const i = invite()
    const witness = statementOf(i, {}, admin)
    await writeFile(join(dir, 'joiner', ADMISSION_FILE), JSON.stringify(witness))
    const chosen = { network: mesh, how: 'kept' as const, membraneProof: membraneProofOf(i) }
    const options = { dataDir: join(dir, 'joiner'), logger: silentLogger(), signal: AbortSignal.abort() }
    expect((await witnessedMesh(chosen, options)).membraneProof?.witness).toEqual(witness)
  })
})

describe('an invite says which release it needs', () => {
  it('a witnessed invite names 0.2.0 first in its file; one of the 0.1.0 form names none, as 0.1.0 reads it', () => {
    const witnessed = createInvite(
      { network: mesh, role: 'member', expiresInMs: HOUR, witnessed: true },
      admin,
    )
    expect(Object.keys(witnessed)[0]).toBe('needs_release')
    expect(witnessed.needs_release).toBe(WITNESSED_SINCE)
    expect(releaseNeededBy(witnessed.grant)).toBe('0.2.0')
    expect(verifyInvite(JSON.stringify(witnessed))).toEqual(witnessed)
    const old = createInvite({ network: mesh, role: 'member', expiresInMs: HOUR }, admin)
    expect(old).not.toHaveProperty('needs_release')
    expect(releaseNeededBy(old.grant)).toBe('0.1.0')
  })

  it('a release older than the one an invite needs says which, in place of "malformed"', () => {
    const future = {
      needs_release: '9.0.0',
      ripple_invite: 1,
      grant: { teleport: true },
      network: {},
    }
    expect(() => verifyInvite(JSON.stringify(future))).toThrow(
      `this invite needs Ripple 9.0.0 or later, and this peer runs Ripple ${RELEASE}: upgrade this peer, then join with the same invite`,
    )
  })

  it('a field this release does not know, with no release named, is malformed and says a newer Ripple may have made it', async () => {
    const i = createInvite({ network: mesh, role: 'member', expiresInMs: HOUR }, admin)
    expect(() => verifyInvite(JSON.stringify({ ...i, grant: { ...i.grant, teleport: true } }))).toThrow(
      `the invite is malformed: grant: Unrecognized key: "teleport" (a field Ripple ${RELEASE} does not know: if a newer Ripple made this invite, upgrade this peer)`,
    )
  })

  it('the invite kept in a data dir with its release still reads', async () => {
    const i = createInvite({ network: mesh, role: 'member', expiresInMs: HOUR, witnessed: true }, admin)
    const path = join(dir, 'kept-invite.json')
    await writeFile(path, JSON.stringify(i))
    expect(verifyInvite(await readFile(path, 'utf8')).needs_release).toBe('0.2.0')
  })
})
