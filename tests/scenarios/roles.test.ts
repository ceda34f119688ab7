/**
 * Roles and revocations on a mesh that requires invites, through the embedded conductor and its rules
 * wasm: alice is the admin (progenitor), bob joined with a worker invite, carol with a member invite.
 * A worker runs tasks but cannot submit one, neither through its own cell nor by publishing a forged
 * op; only an admin revokes; a revoked agent (by name, or by the invite it joined with) is dropped by
 * every peer that holds the revocation and given no work, and an invite revoked before its use admits
 * nobody. An agent invited as admin invites in turn; a member's invite admits nobody.
 */

import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ApiClient, ApiRequestError } from '../../host/api/client/index.ts'
import { InvalidEntryError } from '../../host/conductor/embedded/validation/validator.ts'
import type { NetworkConfig } from '../../host/config/network-schema.ts'
import { decodeHashB64, encodeHashB64 } from '../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../host/identity/keystore.ts'
import type { MembraneProof } from '../../host/identity/membrane-grant.ts'
import { payloadHash } from '../../host/identity/payload-hash.ts'
import { createInvite, membraneProofOf } from '../../host/membership/invite.ts'
import type { InviteRole } from '../../host/membership/invite-schema.ts'
import { inviteService } from '../../host/membership/invite-service.ts'
import { privateMeshOf } from '../../host/membership/private-mesh.ts'
import { claimSnapshotOf } from '../../host/scheduler/requirements.ts'
import { tasksApiServer } from '../unit/api/fixtures.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { eventually, task, testHost } from '../unit/scheduler/fixtures.ts'
import { authorCell, craftCreate, publishOps } from './forge.ts'
import { type Player, runScenario, type Scenario, scenarioNetwork, waitUntil } from './harness.ts'
import { type RunLog, startSchedulerHost } from './scheduler-hosts.ts'

const HOUR = 3_600_000

interface InvitedMesh {
  network: NetworkConfig
  admin: AgentKey
  alice: Player
  bob: Player
  carol: Player
  /** The invite carol joined with, and its id. */
  carolProof: MembraneProof
  carolInvite: string
}

/** Alice (admin), bob (worker) and carol (member), connected. */
async function invitedMesh(scenario: Scenario, overrides: Partial<NetworkConfig> = {}): Promise<InvitedMesh> {
  const adminDir = await mkdtemp(join(tmpdir(), 'ripple-scenario-admin-'))
  const admin = await openAgentKey(adminDir)
  const network = privateMeshOf(scenarioNetwork(overrides), encodeHashB64(admin.agentPubKey))
  const invited = (role: InviteRole) =>
    membraneProofOf(createInvite({ network, role, expiresInMs: HOUR }, admin))
  const alice = await scenario.addPlayer({ network, dataDir: adminDir })
  const bob = await scenario.addPlayer({ network, membraneProof: invited('worker') })
  const carolProof = invited('member')
  const carol = await scenario.addPlayer({ network, membraneProof: carolProof })
  await scenario.shareAllAgents()
  return { network, admin, alice, bob, carol, carolProof, carolInvite: carolProof.grant.invite_id as string }
}

function refusal(call: Promise<unknown>): Promise<InvalidEntryError> {
  return call.then(
    () => {
      throw new Error('the call was not refused')
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(InvalidEntryError)
      return err as InvalidEntryError
    },
  )
}

const TOKEN = 'roles-test-token-0123456789'

/** The management API of `player`'s host (tasks and invites), as the daemon serves it. */
async function apiOf(
  player: Player,
  network: NetworkConfig,
  membraneProof: MembraneProof | null = null,
): Promise<{ api: ApiClient; stop: () => Promise<void> }> {
  const server = tasksApiServer(testHost(player.conductor), TOKEN, {
    node: {
      invites: inviteService({
        network,
        agent: player.agentPubKey,
        membraneProof,
        key: () => openAgentKey(player.dataDir),
        multiaddrs: () => [],
        conductor: player.conductor,
      }),
    },
  })
  await server.start()
  return { api: new ApiClient({ baseUrl: server.url, token: TOKEN }), stop: () => server.stop() }
}

async function apiFailure(call: Promise<unknown>): Promise<ApiRequestError> {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ApiRequestError)
  return err as ApiRequestError
}

const connected = (a: Player, b: Player) => a.node.libp2p.getConnections(b.node.peerId).length > 0

describe('roles from invites', () => {
  it('a worker claims tasks but cannot submit one, on its own cell nor on any peer', async () => {
    await runScenario(async (scenario) => {
      const { alice, bob, carol } = await invitedMesh(scenario)
      const submitted = await carol.conductor.callZome('resource_mesh', 'submit_task', task())
      await scenario.dhtSync([alice, bob, carol], 'resource_mesh')
      await bob.conductor.callZome('resource_mesh', 'claim_task', {
        task: submitted.action_hash,
        snapshot: claimSnapshotOf(capability(), 0),
      })

      const refused = await refusal(bob.conductor.callZome('resource_mesh', 'submit_task', task()))
      expect(refused.rule).toBe('task.author_role')
      expect(refused.message).toMatch(/worker: workers run tasks but do not submit them/)

      // Published past its own rules: every honest peer refuses it and warrants bob.
      await scenario.dhtSync([alice, bob, carol], 'resource_mesh')
      const forged = await craftCreate(authorCell(bob, 'resource_mesh'), 'Task', task())
      await publishOps(bob, 'resource_mesh', [forged.op])
      await waitUntil(10_000, () => [alice, carol].every((p) => p.replication.isWarranted(bob.agentPubKey)))
      for (const peer of [alice, carol]) {
        expect(peer.conductor.store.getAction(forged.hash)).toBeNull()
        expect(peer.replication.listWarrants()).toEqual([
          expect.objectContaining({ agent: bob.agentPubKey, dna: 'resource_mesh', rule: 'task.author_role' }),
        ])
      }
    })
  })

  it('only an admin revokes; every peer then drops the agent and stores nothing it writes after', async () => {
    await runScenario(async (scenario) => {
      const { alice, bob, carol } = await invitedMesh(scenario)
      await bob.conductor.callZome('agent_registry', 'advertise_capability', capability({ name: 'bob' }))
      await scenario.dhtSync([alice, bob, carol], 'agent_registry')

      const byMember = { agent: bob.agentPubKey, invite_id: null, reason: 'not mine to say' }
      const refused = await refusal(carol.conductor.callZome('agent_registry', 'revoke', byMember))
      expect(refused.rule).toBe('revocation.author_is_admin')

      await alice.conductor.callZome('agent_registry', 'revoke', { ...byMember, reason: 'left' })
      await waitUntil(10_000, () =>
        [alice, carol].every((p) => p.replication.isRevoked(bob.agentPubKey) && !connected(p, bob)),
      )
      expect(carol.replication.isRevoked(carol.agentPubKey)).toBe(false)

      const later = await bob.conductor.callZome(
        'agent_registry',
        'advertise_capability',
        capability({ name: 'bob-after', tags: ['late'] }),
      )
      // Neither by gossip nor by catch-up: its connections are refused at the gate.
      await Promise.all([alice, carol, bob].map((p) => p.replication.syncNow()))
      for (const peer of [alice, carol]) {
        expect(connected(peer, bob)).toBe(false)
        expect(peer.conductor.store.getAction(decodeHashB64(later.action_hash))).toBeNull()
        const seen = await peer.conductor.callZome('agent_registry', 'get_capability', bob.agentPubKey)
        expect(seen?.entry.name).toBe('bob')
        // No misbehaviour: a revocation is no warrant.
        expect(peer.replication.listWarrants()).toEqual([])
      }
      // Alice and carol still replicate with each other.
      await carol.conductor.callZome('agent_registry', 'advertise_capability', capability({ name: 'carol' }))
      await scenario.dhtSync([alice, carol], 'agent_registry')
    })
  })

  it("through the API: a worker's submit and a member's revocation are 403s naming the rule; an admin revokes", async () => {
    await runScenario(async (scenario) => {
      const { network, alice, bob, carol } = await invitedMesh(scenario)
      const apis = await Promise.all([alice, bob, carol].map((p) => apiOf(p, network)))
      const [byAlice, byBob, byCarol] = apis.map((a) => a.api)
      try {
        const submit = await apiFailure(byBob!.submitTask({ kind: 'echo', input: { message: 'hi' } }))
        expect(submit.status).toBe(403)
        expect(submit.errorName).toBe('InvalidEntryError')
        expect(submit.message).toMatch(/task\.author_role: the author joined as a worker/)
        expect(submit.details).toEqual({ rule: 'task.author_role' })
        expect((await byCarol!.submitTask({ kind: 'echo', input: { message: 'hi' } })).action_hash).toMatch(
          /^uhCkk/,
        )

        const revocation = { agent: bob.agentPubKey, invite_id: null, reason: '' }
        const revoke = await apiFailure(byCarol!.revoke(revocation))
        expect(revoke.status).toBe(403)
        expect(revoke.details).toEqual({ rule: 'revocation.author_is_admin' })
        const bad = await apiFailure(byAlice!.revoke({ ...revocation, invite_id: 'ab'.repeat(16) }))
        expect(bad.status).toBe(400)
        const ref = await byAlice!.revoke(revocation)
        await waitUntil(10_000, () => carol.replication.isRevoked(bob.agentPubKey))
        const held = await carol.conductor.callZome('agent_registry', 'list_revocations', null)
        expect(held.map((r) => [r.action_hash, r.author, r.entry])).toEqual([
          [ref.action_hash, alice.agentPubKey, revocation],
        ])
      } finally {
        await Promise.all(apis.map((a) => a.stop()))
      }
    })
  })

  it('a revoked agent is given no work: a claim it made before is passed over', async () => {
    await runScenario(async (scenario) => {
      // Still online to alice for a minute after its last heartbeat: only the revocation bars it.
      const heartbeat = { interval_ms: 100, stale_after_missed: 600, offline_after_ms: 60_000 }
      const { alice, bob, carol } = await invitedMesh(scenario, { heartbeat })
      const log: RunLog = { runs: [] }
      // Bob's claim is the best fit (more RAM than carol's): only the bar keeps the task from it.
      const roomy = { hardware: { ...capability().hardware, ram_bytes: 64 * 1024 ** 3 } }
      const hosts = [await startSchedulerHost(bob, { name: 'bob', log, capability: roomy })]
      try {
        // Alice's host is not running yet: bob's claim waits, unassigned, until bob is revoked. She
        // keeps the input, as her scheduler does on submit, for the assignee to ask her for.
        const input = { message: 'for carol' }
        await alice.conductor.callZome('resource_mesh', 'keep_payload', {
          hash: payloadHash(input),
          content: input,
        })
        const ref = await alice.conductor.callZome(
          'resource_mesh',
          'submit_task',
          task({ kind: 'echo', input, lease_ms: 60_000 }),
        )
        const claims = await eventually(async () => {
          const state = await alice.conductor.callZome('resource_mesh', 'get_task_state', ref.action_hash)
          return state?.claims.length ? state.claims : undefined
        })
        expect(claims.map((c) => c.author)).toEqual([bob.agentPubKey])
        const revocation = { agent: bob.agentPubKey, invite_id: null, reason: '' }
        await alice.conductor.callZome('agent_registry', 'revoke', revocation)
        await waitUntil(10_000, () => alice.replication.isRevoked(bob.agentPubKey))
        hosts.push(
          await startSchedulerHost(alice, {
            name: 'alice',
            workers: false,
            log,
            barred: (agent) => alice.replication.isRevoked(agent),
          }),
          await startSchedulerHost(carol, { name: 'carol', log }),
        )
        await waitUntil(20_000, () => log.runs.length > 0)
        const view = await hosts[1]!.scheduler.view(ref.action_hash)
        expect(view.state.claims.map((c) => c.author)).toContain(bob.agentPubKey)
        expect(view.state.assignments.map((a) => a.entry.assignee)).toEqual([carol.agentPubKey])
        expect(log.runs.map((r) => r.host)).toEqual(['carol'])
      } finally {
        await Promise.all(hosts.map((h) => h.stop()))
      }
    })
  })

  it('revoking an invite already used drops the agent that joined with it, from then on', async () => {
    await runScenario(async (scenario) => {
      const { alice, bob, carol, carolInvite } = await invitedMesh(scenario)
      const before = await carol.conductor.callZome(
        'agent_registry',
        'advertise_capability',
        capability({ name: 'carol' }),
      )
      await scenario.dhtSync([alice, bob, carol], 'agent_registry')
      await alice.conductor.callZome('agent_registry', 'revoke', {
        agent: null,
        invite_id: carolInvite,
        reason: '',
      })
      await waitUntil(10_000, () =>
        [alice, bob].every((p) => p.replication.isRevoked(carol.agentPubKey) && !connected(p, carol)),
      )
      const after = await carol.conductor.callZome(
        'agent_registry',
        'advertise_capability',
        capability({ name: 'carol-after', tags: ['late'] }),
      )
      await Promise.all([alice, bob].map((p) => p.replication.syncNow()))
      for (const peer of [alice, bob]) {
        expect(peer.conductor.store.getAction(decodeHashB64(before.action_hash))).not.toBeNull()
        expect(peer.conductor.store.getAction(decodeHashB64(after.action_hash))).toBeNull()
      }
    })
  })

  it('an invite revoked before its use admits nobody', async () => {
    await runScenario(async (scenario) => {
      const { network, admin, alice, carol } = await invitedMesh(scenario)
      const invite = createInvite({ network, role: 'member', expiresInMs: HOUR }, admin)
      await alice.conductor.callZome('agent_registry', 'revoke', {
        agent: null,
        invite_id: invite.grant.invite_id,
        reason: 'sent to the wrong person',
      })
      await scenario.dhtSync([alice, carol], 'agent_registry')
      const dave = await scenario.addPlayer({ network, membraneProof: membraneProofOf(invite) })
      await dave.conductor.callZome('agent_registry', 'advertise_capability', capability({ name: 'dave' }))
      await waitUntil(10_000, () => [alice, carol].every((p) => p.replication.isRevoked(dave.agentPubKey)))
      for (const peer of [alice, carol]) {
        // At most its Dna action: its genesis, and so all that follows, is refused.
        const head = peer.conductor.store.chainHead(
          peer.conductor.cell('agent_registry').dnaHash,
          decodeHashB64(dave.agentPubKey, 'agent'),
        )
        expect(head?.seq ?? 0).toBe(0)
        expect(await peer.conductor.callZome('agent_registry', 'get_capability', dave.agentPubKey)).toBeNull()
      }
    })
  })
  it('an agent invited as admin invites in turn; a member cannot, and an invite it signs admits nobody', async () => {
    await runScenario(async (scenario) => {
      const { network, admin, alice, bob, carol, carolProof } = await invitedMesh(scenario)
      const daveProof = membraneProofOf(createInvite({ network, role: 'admin', expiresInMs: HOUR }, admin))
      const dave = await scenario.addPlayer({ network, membraneProof: daveProof })
      await scenario.shareAllAgents()
      await scenario.dhtSync([alice, bob, carol, dave], 'agent_registry')

      // Dave invites through its API, as `ripple invite create` does; carol (a member) may not.
      const daveApi = await apiOf(dave, network, daveProof)
      const carolApi = await apiOf(carol, network, carolProof)
      let erinInvite: Awaited<ReturnType<ApiClient['createInvite']>>
      try {
        erinInvite = await daveApi.api.createInvite({ role: 'worker', expires_in_ms: HOUR })
        const refused = await apiFailure(carolApi.api.createInvite({ role: 'worker', expires_in_ms: HOUR }))
        expect(refused.status).toBe(403)
        expect(refused.errorName).toBe('NotMeshAdminError')
      } finally {
        await daveApi.stop()
        await carolApi.stop()
      }
      expect(erinInvite.grant.issuer).toBe(dave.agentPubKey)

      // Erin, invited by dave, is a peer like any: every peer stores what she writes.
      const erin = await scenario.addPlayer({ network, membraneProof: membraneProofOf(erinInvite) })
      await erin.conductor.callZome('agent_registry', 'advertise_capability', capability({ name: 'erin' }))
      // Frank holds an invite carol signed herself, past her API: nobody admits him. He dials every
      // peer himself (a peer with neighbours would not dial him, and members pass on only what they
      // accepted: his ops reach only the peers he reaches).
      const carolKey = await openAgentKey(carol.dataDir)
      const frankInvite = createInvite({ network, role: 'worker', expiresInMs: HOUR }, carolKey)
      const frank = await scenario.addPlayer({
        network,
        membraneProof: membraneProofOf(frankInvite),
        discovery: 'explicit',
      })
      await frank.conductor.callZome('agent_registry', 'advertise_capability', capability({ name: 'frank' }))
      await scenario.shareAllAgents([alice, bob, carol, dave, erin])
      await scenario.dhtSync([alice, bob, carol, dave, erin], 'agent_registry')
      await waitUntil(10_000, () =>
        [alice, bob, dave].every((p) => p.replication.isWarranted(frank.agentPubKey)),
      )
      for (const peer of [alice, bob, carol, dave]) {
        const erinCapability = await peer.conductor.callZome(
          'agent_registry',
          'get_capability',
          erin.agentPubKey,
        )
        expect(erinCapability?.entry.name).toBe('erin')
        expect(
          await peer.conductor.callZome('agent_registry', 'get_capability', frank.agentPubKey),
        ).toBeNull()
      }
      expect(alice.replication.listWarrants()).toContainEqual(
        expect.objectContaining({ agent: frank.agentPubKey, rule: 'membrane_proof.issuer_is_admin' }),
      )
    })
  })
})
