/**
 * Who is served, decided by what each peer's rules admitted (embedded conductors and their rules wasm,
 * real libp2p on loopback). Alice is the admin; an invite admits as many machines as it says (one
 * unless made for more), and the genesis of a machine past them is refused by every peer, its author
 * warranted; a peer that holds the network's key but was never admitted (no genesis here, or one the
 * rules refused) gets no stream and no request served on a members-only protocol, while members do.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lpStream } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { membershipOf, ownStanding } from '../../host/conductor/embedded/replication/membership.ts'
import type { NetworkConfig } from '../../host/config/network-schema.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../host/identity/keystore.ts'
import { createInvite, membraneProofOf } from '../../host/membership/invite.ts'
import { privateMeshOf } from '../../host/membership/private-mesh.ts'
import { createRippleNode } from '../../host/net/create-node.ts'
import { RequestRefusedError } from '../../host/net/errors.ts'
import { type Player, runScenario, type Scenario, scenarioNetwork, waitUntil } from './harness.ts'

const HOUR = 3_600_000
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

async function adminMesh(
  scenario: Scenario,
): Promise<{ network: NetworkConfig; admin: AgentKey; alice: Player }> {
  const adminDir = await mkdtemp(join(tmpdir(), 'ripple-scenario-admin-'))
  const admin = await openAgentKey(adminDir)
  const network = privateMeshOf(scenarioNetwork(), encodeHashB64(admin.agentPubKey))
  const alice = await scenario.addPlayer({ network, dataDir: adminDir })
  return { network, admin, alice }
}

/** Alice serves a members-only request protocol and a members-only stream; returns who reached each. */
async function serveProbes(alice: Player): Promise<string[]> {
  const served: string[] = []
  await alice.node.rpc.handle('probe/1.0.0', async (_req, peer) => {
    served.push(peer.toString())
    return bytes('served')
  })
  await alice.node.streams.handle('probe-stream/1.0.0', async (stream, peer) => {
    served.push(peer.toString())
    await lpStream(stream).write(bytes('engine build b1234'))
    await stream.close()
  })
  return served
}

describe('members only', () => {
  it('an invite for two admits two machines; the genesis of a third is refused by every peer', async () => {
    await runScenario(async (scenario) => {
      const { network, admin, alice } = await adminMesh(scenario)
      const proof = membraneProofOf(
        createInvite({ network, role: 'member', expiresInMs: HOUR, uses: 2 }, admin),
      )
      const bob = await scenario.addPlayer({ network, membraneProof: proof })
      const carol = await scenario.addPlayer({ network, membraneProof: proof })
      await scenario.shareAllAgents([alice, bob, carol])
      await scenario.dhtSync([alice, bob, carol], 'agent_registry')
      const dave = await scenario.addPlayer({ network, membraneProof: proof })
      await waitUntil(15_000, () =>
        [alice, bob, carol].every((p) => p.replication.isWarranted(dave.agentPubKey)),
      )
      for (const peer of [alice, bob, carol]) {
        expect(peer.replication.listWarrants()).toEqual([
          expect.objectContaining({ agent: dave.agentPubKey, rule: 'membrane_proof.invite_used' }),
        ])
        expect(membershipOf(peer.conductor, peer.replication, bob.agentPubKey)).toBeNull()
        expect(membershipOf(peer.conductor, peer.replication, carol.agentPubKey)).toBeNull()
        expect(membershipOf(peer.conductor, peer.replication, dave.agentPubKey)?.final).toBe(true)
      }
      // Dave's own rules took his genesis (he could not know the invite was used); his store, once it
      // holds the others' geneses, tells him the mesh refuses him (ripple status, a warning).
      await waitUntil(15_000, () => ownStanding(dave.conductor, dave.replication) !== null)
      expect(ownStanding(dave.conductor, dave.replication)).toMatch(
        /^this peer joined with invite \S+, which admits 2 and was used first by others: every other peer refuses it/,
      )
      for (const peer of [alice, bob, carol]) expect(ownStanding(peer.conductor, peer.replication)).toBeNull()

      // Served by what the rules admitted: bob is, dave (who holds the key and a used invite) is not.
      const served = await serveProbes(alice)
      expect(text(await bob.node.rpc.request(alice.node.peerId, 'probe/1.0.0', bytes('?')))).toBe('served')
      const refused = await dave.node.rpc
        .request(alice.node.peerId, 'probe/1.0.0', bytes('?'))
        .catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(RequestRefusedError)
      expect((refused as Error).message).toMatch(/not a member of this mesh: it is warranted here/)
      const stream = await dave.node.streams.open(alice.node.peerId, 'probe-stream/1.0.0')
      await expect(lpStream(stream).read()).rejects.toThrow()
      expect(served).toEqual([bob.node.peerId.toString()])
    })
  })

  it('a node with the key and an expired invite, but no genesis anyone holds, is served nothing', async () => {
    await runScenario(async (scenario) => {
      const { network, admin, alice } = await adminMesh(scenario)
      const expired = createInvite({ network, role: 'worker', expiresInMs: 1, now: Date.now() - HOUR }, admin)
      const served = await serveProbes(alice)
      // What an attacker does with the network section of an expired invite: a fresh key, the psk.
      const stranger = await createRippleNode({
        network: expired.network,
        listen: ['/ip4/127.0.0.1/tcp/0'],
        peers: alice.node.multiaddrs().map(String),
        mdnsInterface: '127.0.0.1',
        loopbackTuning: true,
      })
      try {
        await waitUntil(10_000, () => alice.node.peers.has(stranger.peerId))
        const refused = await stranger.rpc
          .request(alice.node.peerId, 'probe/1.0.0', bytes('?'), { timeoutMs: 20_000 })
          .catch((e: unknown) => e)
        expect(refused).toBeInstanceOf(RequestRefusedError)
        expect((refused as Error).message).toMatch(/not a member of this mesh: no genesis of its/)
        const stream = await stranger.streams.open(alice.node.peerId, 'probe-stream/1.0.0')
        await expect(lpStream(stream).read()).rejects.toThrow()
        expect(served).toEqual([])
      } finally {
        await stranger.stop()
      }
    })
  })
})
