import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadNetworkConfig } from '../../../host/config/network-config.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../../host/identity/keystore.ts'
import { createInvite, networkIdHex, verifyInvite } from '../../../host/membership/invite.ts'
import type { Invite } from '../../../host/membership/invite-schema.ts'
import { chooseMesh, INVITE_FILE, MESH_FILE, privateMeshOf } from '../../../host/membership/private-mesh.ts'

let dir: string
let admin: AgentKey
let other: AgentKey
let open: NetworkConfig
let mesh: NetworkConfig
const HOUR = 3_600_000

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-invite-'))
  admin = await openAgentKey(join(dir, 'admin'))
  other = await openAgentKey(join(dir, 'other'))
  open = await loadNetworkConfig('local')
  mesh = privateMeshOf(open, encodeHashB64(admin.agentPubKey))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const text = (invite: Invite) => JSON.stringify(invite)

describe('verifyInvite', () => {
  it('accepts what the admin signed, until it expires', () => {
    const invite = createInvite({ network: mesh, role: 'worker', expiresInMs: HOUR, now: 1_000 }, admin)
    expect(verifyInvite(text(invite), 1_000 + HOUR - 1)).toEqual(invite)
    expect(() => verifyInvite(text(invite), 1_000 + HOUR)).toThrow(/expired at 1970-01-01T01:00:01.000Z/)
  })

  it.each<[string, (i: Invite) => Invite, RegExp]>([
    [
      'a role raised after signing',
      (i) => ({ ...i, grant: { ...i.grant, role: 'admin' } }),
      /not signed by its issuer/,
    ],
    [
      'a later expiry',
      (i) => ({ ...i, grant: { ...i.grant, expires_at: i.grant.expires_at + HOUR } }),
      /not signed/,
    ],
    [
      'another network carried',
      (i) => ({ ...i, network: { ...i.network, seed: 'other' } }),
      /another network/,
    ],
    ['an unknown field', (i) => ({ ...i, extra: 1 }) as Invite, /malformed/],
  ])('refuses %s', (_, tamper, message) => {
    const invite = createInvite({ network: mesh, role: 'member', expiresInMs: HOUR }, admin)
    expect(() => verifyInvite(text(tamper(invite)))).toThrow(message)
  })

  it('refuses an invite signed by someone who is not the mesh admin', () => {
    const invite = createInvite({ network: mesh, role: 'member', expiresInMs: HOUR }, other)
    expect(() => verifyInvite(text(invite))).toThrow(/not issued by the admin of its network/)
  })

  it('says what to pass when the text is not an invite', () => {
    expect(() => verifyInvite('ripple-invite')).toThrow(
      /not JSON: pass the file `ripple invite create` wrote/,
    )
  })
})

describe('chooseMesh', () => {
  const choice = (dataDir: string, extra: { open?: boolean; inviteText?: string; requested?: string } = {}) =>
    chooseMesh({ requested: 'local', base: open, dataDir, open: false, ...extra })

  it('creates a private mesh on the first start of local, and keeps it', async () => {
    const dataDir = join(dir, 'admin')
    const created = await choice(dataDir)
    expect(created.how).toBe('created')
    expect(created.network.libp2p?.psk).toMatch(/^[0-9a-f]{64}$/)
    expect(created.network.dna_properties.policy_store?.progenitor).toBe(encodeHashB64(admin.agentPubKey))
    expect((await stat(join(dataDir, MESH_FILE))).mode & 0o777).toBe(0o600)
    expect(await choice(dataDir)).toEqual({ network: created.network, how: 'kept', membraneProof: null })
    await expect(choice(dataDir, { open: true })).rejects.toThrow(/already belongs to the private mesh/)
  })

  it('a testnet file that requires invites makes a mesh too, without a key its relays could not serve', async () => {
    const testnet = { ...(await loadNetworkConfig('testnet')), require_invite: true }
    const dataDir = join(dir, 'admin')
    const created = await chooseMesh({ requested: 'testnet', base: testnet, dataDir, open: false })
    expect(created.how).toBe('created')
    expect(created.network.libp2p).toEqual({ ...testnet.libp2p, psk: null })
    expect(created.network.seed).toMatch(/^testnet-[0-9a-f]{32}$/)
    expect(created.network.require_invite).toBeUndefined()
    expect(created.network.dna_properties.resource_mesh).toEqual({
      membrane: 'invite',
      progenitor: encodeHashB64(admin.agentPubKey),
      network_id: networkIdHex(created.network),
    })
    expect(await chooseMesh({ requested: 'testnet', base: testnet, dataDir, open: false })).toEqual({
      network: created.network,
      how: 'kept',
      membraneProof: null,
    })
    // Its invites carry the relays as bootstrap peers, and verify.
    const invite = createInvite({ network: created.network, role: 'worker', expiresInMs: HOUR }, admin)
    expect(verifyInvite(text(invite)).network.libp2p?.bootstrap).toEqual(testnet.libp2p?.bootstrap)
    // The testnet as shipped stays open.
    const shipped = await loadNetworkConfig('testnet')
    expect(await chooseMesh({ requested: 'testnet', base: shipped, dataDir, open: false })).toMatchObject({
      how: 'file',
    })
  })

  it('--open and other networks are taken as they are', async () => {
    expect(await choice(join(dir, 'a'), { open: true })).toEqual({
      network: open,
      how: 'open',
      membraneProof: null,
    })
    expect(await choice(join(dir, 'b'), { requested: 'some/file.json' })).toEqual({
      network: open,
      how: 'file',
      membraneProof: null,
    })
  })

  it('joins with an invite: the mesh and the invite are written 0600; another mesh is refused', async () => {
    const invite = createInvite({ network: mesh, role: 'member', expiresInMs: HOUR }, admin)
    const dataDir = join(dir, 'other')
    const proof = { grant: invite.grant, signature: invite.signature }
    expect(await choice(dataDir, { inviteText: text(invite) })).toEqual({
      network: mesh,
      how: 'joined',
      membraneProof: proof,
    })
    expect(await choice(dataDir)).toEqual({ network: mesh, how: 'kept', membraneProof: proof })
    for (const file of [MESH_FILE, INVITE_FILE])
      expect((await stat(join(dataDir, file))).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await readFile(join(dataDir, INVITE_FILE), 'utf8'))).toEqual(invite)
    const elsewhere = privateMeshOf(open, encodeHashB64(admin.agentPubKey))
    const second = createInvite({ network: elsewhere, role: 'member', expiresInMs: HOUR }, admin)
    await expect(choice(dataDir, { inviteText: text(second) })).rejects.toThrow(/already belongs/)
  })
})
