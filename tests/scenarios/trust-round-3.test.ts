/**
 * Admission against those once let in (issue 55, points 1 and 3), on embedded conductors with the rules
 * wasm and real libp2p on loopback. Alice is the progenitor. A 0.1.0-form grant (no `witnessed`) is
 * redeemed at its joiner's own genesis time, so a copy of bob's grant under a genesis dated 0 takes his
 * place, until alice seals the legacy uses she counts as members: from then on every peer's rules and
 * member gate admit only the sealed use (a peer started later reads the seal from its store). A witness
 * is trusted while it is a member: once revoked or warranted, those it admitted are not members, and a
 * revoked one's new statements are refused; a statement dated before the witness was itself admitted
 * is refused too.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { createEmbeddedConductor } from '../../host/conductor/embedded/index.ts'
import { legacyUses, membershipOf } from '../../host/conductor/embedded/replication/membership.ts'
import { storeRecords } from '../../host/conductor/embedded/validation/record-rules.ts'
import type { NetworkConfig } from '../../host/config/network-schema.ts'
import { decodeHashB64, encodeHashB64 } from '../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../host/identity/keystore.ts'
import { type MembraneProof, signStatement } from '../../host/identity/membrane-grant.ts'
import { createInvite, membraneProofOf, networkIdHex } from '../../host/membership/invite.ts'
import type { Invite } from '../../host/membership/invite-schema.ts'
import { privateMeshOf } from '../../host/membership/private-mesh.ts'
import { DNA_NAMES } from '../../zomes-bindings/index.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { authorCell, craftCreate, publishOps } from './forge.ts'
import { type Player, runScenario, type Scenario, scenarioNetwork, waitUntil } from './harness.ts'

const HOUR = 3_600_000

/** A data dir with a fresh agent key, and `invite`'s proof witnessed for that agent by `witness` at `atMs`. */
async function redeemed(network: NetworkConfig, invite: Invite, witness: AgentKey, atMs: number) {
  const dataDir = await mkdtemp(join(tmpdir(), 'ripple-scenario-joiner-'))
  const agent = encodeHashB64((await openAgentKey(dataDir)).agentPubKey)
  const statement = {
    network_id: networkIdHex(network),
    invite_id: invite.grant.invite_id,
    agent,
    witnessed_at: atMs * 1000,
    witness: encodeHashB64(witness.agentPubKey),
  }
  const proof: MembraneProof = {
    ...membraneProofOf(invite),
    witness: { statement, signature: signStatement(statement, witness) },
  }
  return { dataDir, membraneProof: proof }
}

/**
 * A data dir whose chains open with a genesis dated 0 carrying `proof`: what a machine whose clock is
 * set back writes (the time of a genesis is its author's to choose).
 */
async function backdatedGenesis(network: NetworkConfig, proof: MembraneProof): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ripple-scenario-mallory-'))
  vi.useFakeTimers({ toFake: ['Date'], now: 0 })
  try {
    const conductor = await createEmbeddedConductor({ dataDir, network, membraneProof: proof })
    await conductor.close()
  } finally {
    vi.useRealTimers()
  }
  return dataDir
}

/** Alice (progenitor) and carol, a member whose witnessed invite alice redeemed. */
async function adminMesh(scenario: Scenario) {
  const adminDir = await mkdtemp(join(tmpdir(), 'ripple-scenario-admin-'))
  const admin = await openAgentKey(adminDir)
  const network = privateMeshOf(scenarioNetwork(), encodeHashB64(admin.agentPubKey))
  const witnessed = (role: 'member' | 'worker', now = Date.now()) =>
    createInvite({ network, role, expiresInMs: 2 * HOUR, witnessed: true, now }, admin)
  const alice = await scenario.addPlayer({ network, dataDir: adminDir })
  const carol = await scenario.addPlayer({
    network,
    ...(await redeemed(network, witnessed('member'), admin, Date.now())),
  })
  return { network, admin, alice, carol, witnessed }
}

const judged = (peer: Player, agent: string) => membershipOf(peer.conductor, peer.replication, agent)
const warrantsOf = (peer: Player, agent: string) =>
  peer.replication.listWarrants().filter((w) => w.agent === agent)

/**
 * `agent` is refused on `peer` for what arrived after its admission: its member gate says `why`, or,
 * where a genesis of another DNA of its reached the peer only after, the rules refused that by `rule`.
 */
function refusedFor(peer: Player, agent: string, why: RegExp, rule: string) {
  const membership = judged(peer, agent)
  expect(membership?.final).toBe(true)
  if (peer.replication.isWarranted(agent)) {
    expect(warrantsOf(peer, agent)).toContainEqual(
      expect.objectContaining({ rule: `membrane_proof.${rule}` }),
    )
  } else {
    expect(membership?.why).toMatch(why)
  }
}

/** Bob's grant as any peer holds it: the membrane proof of his genesis. */
function grantHeldBy(peer: Player, bob: Player): MembraneProof {
  const records = storeRecords(peer.conductor.store, peer.conductor.cell('agent_registry').dnaHash)
  return records.genesisProof(decodeHashB64(bob.agentPubKey, 'agent')) as MembraneProof
}

/** Alice, carol, and bob on a one-use grant of the 0.1.0 form; all hold each other's geneses. */
async function legacyMesh(scenario: Scenario) {
  const mesh = await adminMesh(scenario)
  const { network, admin, alice, carol } = mesh
  const legacy = createInvite({ network, role: 'admin', expiresInMs: HOUR, uses: 1, witnessed: false }, admin)
  expect(legacy.grant).not.toHaveProperty('witnessed')
  const bob = await scenario.addPlayer({ network, membraneProof: membraneProofOf(legacy) })
  await scenario.shareAllAgents()
  // Every chain of bob's is held before mallory's come: whichever DNA it is in, his came first.
  for (const dna of DNA_NAMES) await scenario.dhtSync([alice, bob, carol], dna)
  for (const peer of [alice, carol]) expect(judged(peer, bob.agentPubKey)).toBeNull()
  return { ...mesh, bob, inviteId: legacy.grant.invite_id }
}

/** Alice seals the legacy uses she counts as members (what the LegacySealer writes), and every peer holds it. */
async function seal(alice: Player, peers: Player[]) {
  const uses = legacyUses(alice.conductor, alice.replication)
  await alice.conductor.callZome('agent_registry', 'seal_legacy_invites', { uses })
  await waitUntil(15_000, () => peers.every((p) => p.replication.legacySealed() !== null))
  return uses
}

describe('legacy grants retired by the admins’ seal (issue 55, point 1)', () => {
  it('once sealed, a copy of a member’s grant under a genesis dated 0 is refused by every peer', async () => {
    await runScenario(async (scenario) => {
      const { network, alice, bob, carol, inviteId } = await legacyMesh(scenario)
      expect(await seal(alice, [alice, bob, carol])).toEqual([
        { invite_id: inviteId, agent: bob.agentPubKey },
      ])
      // A peer started after the seal reached it holds it from its store (read at start).
      await carol.restart()
      expect(carol.replication.legacySealed()).not.toBeNull()
      await scenario.shareAllAgents()

      // Mallory holds the network key and reads bob's grant from bob's genesis, as any peer does.
      const stolen = grantHeldBy(carol, bob)
      const mallory = await scenario.addPlayer({
        network,
        dataDir: await backdatedGenesis(network, stolen),
        membraneProof: stolen,
      })
      expect(
        storeRecords(mallory.conductor.store, mallory.conductor.cell('agent_registry').dnaHash).admittedAt(
          decodeHashB64(mallory.agentPubKey, 'agent'),
        ),
      ).toBeLessThan(1_000_000)
      const honest = [alice, bob, carol]
      await waitUntil(20_000, () => honest.every((p) => p.replication.isWarranted(mallory.agentPubKey)))
      for (const peer of honest) {
        expect(warrantsOf(peer, mallory.agentPubKey)).toContainEqual(
          expect.objectContaining({ rule: 'membrane_proof.legacy_retired' }),
        )
        expect(judged(peer, mallory.agentPubKey)?.final).toBe(true)
      }
      for (const peer of [alice, carol]) expect(judged(peer, bob.agentPubKey)).toBeNull()
    })
  })

  it('unsealed, the backdated copy displaces the real holder; the seal gives his place back', async () => {
    await runScenario(async (scenario) => {
      const { network, alice, bob, carol, inviteId } = await legacyMesh(scenario)
      const stolen = grantHeldBy(alice, bob)
      const mallory = await scenario.addPlayer({
        network,
        dataDir: await backdatedGenesis(network, stolen),
        membraneProof: stolen,
      })
      // The hole: judged by its own genesis time, the copy used the one-use invite first.
      await waitUntil(20_000, () =>
        [alice, carol].every(
          (p) => judged(p, mallory.agentPubKey) === null && judged(p, bob.agentPubKey)?.final === true,
        ),
      )
      expect(judged(carol, bob.agentPubKey)?.why).toMatch(/which admits 1 and was used first by others/)

      // Alice seals bob's use, as she saw it, not mallory's: every peer's member gate follows the seal.
      await alice.conductor.callZome('agent_registry', 'seal_legacy_invites', {
        uses: [{ invite_id: inviteId, agent: bob.agentPubKey }],
      })
      await waitUntil(15_000, () =>
        [alice, carol].every(
          (p) => judged(p, bob.agentPubKey) === null && judged(p, mallory.agentPubKey)?.final === true,
        ),
      )
      for (const peer of [alice, carol]) {
        refusedFor(
          peer,
          mallory.agentPubKey,
          /of the 0\.1\.0 form, which the admins sealed without it/,
          'legacy_retired',
        )
      }
    })
  })
})

describe('a witness is trusted while it is a member (issue 55, point 3)', () => {
  it('once its witness is revoked, an agent it admitted is no member, and its new statements are refused', async () => {
    await runScenario(async (scenario) => {
      const { network, admin, alice, carol, witnessed } = await adminMesh(scenario)
      const mark = await scenario.addPlayer({
        network,
        ...(await redeemed(network, witnessed('member'), admin, Date.now())),
      })
      const markKey = await openAgentKey(mark.dataDir)
      const xavier = await scenario.addPlayer({
        network,
        ...(await redeemed(network, witnessed('worker'), markKey, Date.now())),
      })
      await scenario.shareAllAgents()
      await scenario.dhtSync([alice, carol, mark, xavier], 'agent_registry')
      for (const peer of [alice, carol]) expect(judged(peer, xavier.agentPubKey)).toBeNull()
      // The roll of members every placement and heartbeat reads is read now, and must not stay so.
      for (const peer of [alice, carol]) expect(peer.replication.isMember(xavier.agentPubKey)).toBe(true)

      await alice.conductor.callZome('agent_registry', 'revoke', {
        agent: mark.agentPubKey,
        invite_id: null,
        reason: 'left',
      })
      await waitUntil(15_000, () =>
        [alice, carol].every((p) => judged(p, xavier.agentPubKey)?.final === true),
      )
      for (const peer of [alice, carol]) {
        refusedFor(peer, xavier.agentPubKey, new RegExp(`admitted by ${mark.agentPubKey}`), 'witness_barred')
        expect(peer.replication.isMember(xavier.agentPubKey)).toBe(false)
        expect(peer.replication.members()).not.toContain(mark.agentPubKey)
        expect(peer.replication.members()).toContain(carol.agentPubKey)
      }

      // Mark goes on witnessing, at the time he chooses: his statement no longer admits anyone.
      const yuri = await scenario.addPlayer({
        network,
        ...(await redeemed(network, witnessed('worker'), markKey, Date.now())),
      })
      await waitUntil(20_000, () => [alice, carol].every((p) => p.replication.isWarranted(yuri.agentPubKey)))
      for (const peer of [alice, carol]) {
        expect(warrantsOf(peer, yuri.agentPubKey)).toContainEqual(
          expect.objectContaining({ rule: 'membrane_proof.witness_barred' }),
        )
      }
    })
  })

  it('once its witness is warranted, an agent it admitted is no member', async () => {
    await runScenario(async (scenario) => {
      const { network, admin, alice, carol, witnessed } = await adminMesh(scenario)
      const mark = await scenario.addPlayer({
        network,
        ...(await redeemed(network, witnessed('member'), admin, Date.now())),
      })
      const xavier = await scenario.addPlayer({
        network,
        ...(await redeemed(network, witnessed('worker'), await openAgentKey(mark.dataDir), Date.now())),
      })
      await scenario.shareAllAgents()
      for (const dna of DNA_NAMES) await scenario.dhtSync([alice, carol, mark, xavier], dna)
      for (const peer of [alice, carol]) expect(judged(peer, xavier.agentPubKey)).toBeNull()
      for (const peer of [alice, carol]) expect(peer.replication.members()).toContain(xavier.agentPubKey)

      // An entry the rules refuse (an empty name): its own conductor would never sign it.
      const invalid = await craftCreate(
        authorCell(mark, 'agent_registry'),
        'NodeCapability',
        capability({ name: '' }),
      )
      await publishOps(mark, 'agent_registry', [invalid.op])
      await waitUntil(15_000, () =>
        [alice, carol].every((p) => judged(p, xavier.agentPubKey)?.final === true),
      )
      for (const peer of [alice, carol]) {
        expect(peer.replication.isWarranted(mark.agentPubKey)).toBe(true)
        expect(judged(peer, xavier.agentPubKey)?.why).toContain(`admitted by ${mark.agentPubKey}`)
        // The roll every placement and heartbeat reads follows the warrant.
        expect(peer.replication.members()).not.toContain(xavier.agentPubKey)
        expect(peer.replication.isMember(mark.agentPubKey)).toBe(false)
      }
    })
  })

  it('a statement dated before its witness was itself admitted is refused', async () => {
    await runScenario(async (scenario) => {
      const { network, admin, alice, carol, witnessed } = await adminMesh(scenario)
      const now = Date.now()
      const mark = await scenario.addPlayer({
        network,
        ...(await redeemed(network, witnessed('member'), admin, now)),
      })
      await scenario.shareAllAgents()
      await scenario.dhtSync([alice, carol, mark], 'agent_registry')
      // An invite issued an hour ago, whose redemption mark says he saw half an hour before he joined.
      const early = witnessed('worker', now - HOUR)
      const zed = await scenario.addPlayer({
        network,
        ...(await redeemed(network, early, await openAgentKey(mark.dataDir), now - HOUR / 2)),
      })
      await waitUntil(20_000, () => [alice, carol].every((p) => p.replication.isWarranted(zed.agentPubKey)))
      for (const peer of [alice, carol]) {
        expect(warrantsOf(peer, zed.agentPubKey)).toContainEqual(
          expect.objectContaining({ rule: 'membrane_proof.witness_not_yet_member' }),
        )
        expect(judged(peer, zed.agentPubKey)?.final).toBe(true)
        expect(judged(peer, mark.agentPubKey)).toBeNull()
      }
    })
  })
})
