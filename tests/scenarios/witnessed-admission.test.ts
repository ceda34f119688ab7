/**
 * Witnessed admission through the embedded conductor and its rules wasm (issue 43, point 1): alice is
 * the admin, carol a member and bob a worker, all joined before. A witnessed invite redeemed with carol
 * as witness admits erin on every peer (carol's own genesis says she is a member); one witnessed by bob,
 * a worker, admits nobody; and of two machines that redeemed a one-use invite, every peer keeps the one
 * witnessed first, though its genesis was written later.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { membershipOf } from '../../host/conductor/embedded/replication/membership.ts'
import type { NetworkConfig } from '../../host/config/network-schema.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../host/identity/keystore.ts'
import { type MembraneProof, signStatement } from '../../host/identity/membrane-grant.ts'
import { createInvite, membraneProofOf, networkIdHex } from '../../host/membership/invite.ts'
import type { Invite } from '../../host/membership/invite-schema.ts'
import { privateMeshOf } from '../../host/membership/private-mesh.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
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

async function mesh(scenario: Scenario) {
  const adminDir = await mkdtemp(join(tmpdir(), 'ripple-scenario-admin-'))
  const admin = await openAgentKey(adminDir)
  const network = privateMeshOf(scenarioNetwork(), encodeHashB64(admin.agentPubKey))
  const invited = (role: 'member' | 'worker') =>
    membraneProofOf(createInvite({ network, role, expiresInMs: HOUR }, admin))
  const alice = await scenario.addPlayer({ network, dataDir: adminDir })
  const bob = await scenario.addPlayer({ network, membraneProof: invited('worker') })
  const carol = await scenario.addPlayer({ network, membraneProof: invited('member') })
  await scenario.shareAllAgents()
  await scenario.dhtSync([alice, bob, carol], 'agent_registry')
  const witnessed = (uses: number) =>
    createInvite({ network, role: 'worker', expiresInMs: HOUR, uses, witnessed: true }, admin)
  return { network, alice, bob, carol, witnessed, keyOf: (p: Player) => openAgentKey(p.dataDir) }
}

const advertise = (p: Player) =>
  p.conductor.callZome('agent_registry', 'advertise_capability', capability({ name: p.name }))

describe('admission witnessed by a member', () => {
  it('a member witnesses for every peer; a worker’s witness admits nobody', async () => {
    await runScenario(async (scenario) => {
      const { network, alice, bob, carol, witnessed, keyOf } = await mesh(scenario)
      const invite = witnessed(2)
      const erin = await scenario.addPlayer({
        network,
        ...(await redeemed(network, invite, await keyOf(carol), Date.now())),
      })
      const frank = await scenario.addPlayer({
        network,
        ...(await redeemed(network, invite, await keyOf(bob), Date.now())),
      })
      await advertise(erin)
      await advertise(frank)
      await scenario.shareAllAgents()
      await waitUntil(15_000, () => [alice, carol].every((p) => p.replication.isWarranted(frank.agentPubKey)))
      expect(alice.replication.listWarrants()).toContainEqual(
        expect.objectContaining({ agent: frank.agentPubKey, rule: 'membrane_proof.witness_not_member' }),
      )
      await scenario.dhtSync([alice, bob, carol, erin], 'agent_registry')
      for (const peer of [alice, bob, carol]) {
        expect(membershipOf(peer.conductor, peer.replication, erin.agentPubKey)).toBeNull()
        const got = await peer.conductor.callZome('agent_registry', 'get_capability', erin.agentPubKey)
        expect(got?.entry.name).toBe(erin.name)
      }
    })
  })

  it('of two machines on a one-use invite, the one witnessed first keeps it, whatever the genesis times', async () => {
    await runScenario(async (scenario) => {
      const { network, alice, bob, carol, witnessed, keyOf } = await mesh(scenario)
      const invite = witnessed(1)
      const now = Date.now()
      // Erin's genesis is written first but witnessed a second after Gina's, whose genesis comes later.
      const erin = await scenario.addPlayer({
        network,
        ...(await redeemed(network, invite, await keyOf(carol), now)),
      })
      const gina = await scenario.addPlayer({
        network,
        ...(await redeemed(network, invite, await keyOf(alice), now - 1000)),
      })
      await scenario.shareAllAgents()
      // Every peer admits gina; erin is refused (a peer that holds both geneses says why).
      const judged = (p: Player) => ({
        gina: membershipOf(p.conductor, p.replication, gina.agentPubKey),
        erin: membershipOf(p.conductor, p.replication, erin.agentPubKey),
      })
      const peers = [alice, bob, carol, gina]
      await waitUntil(15_000, () =>
        peers.every((p) => judged(p).gina === null && judged(p).erin?.final === true),
      )
      // A peer that held gina's genesis first refuses erin's by the rules (a warrant for the used
      // invite); one that held erin's first admits it, then finds the invite used first by gina.
      for (const peer of [alice, carol]) {
        if (peer.replication.isWarranted(erin.agentPubKey)) {
          expect(peer.replication.listWarrants()).toContainEqual(
            expect.objectContaining({ agent: erin.agentPubKey, rule: 'membrane_proof.invite_used' }),
          )
        } else {
          expect(judged(peer).erin?.why).toMatch(/which admits 1 and was used first by others/)
        }
      }
    })
  })
})
