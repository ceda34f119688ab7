/**
 * Members' addresses travel in their heartbeats (issue 57: a holder's address from membership): two
 * peers' registries beat and hear as the daemon wires them (net/member-addresses.ts through
 * node/libp2p-views.ts), and a record push to a holder whose address the pusher's peer store lost
 * dials what the holder told, not a directory walk (walks counted as the directory's peer lookups).
 */
import { describe, expect, it, vi } from 'vitest'
import { OpPusher } from '../../host/conductor/embedded/replication/op-push.ts'
import { LoadSampler } from '../../host/hardware/load-sampler.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { agentAddresses } from '../../host/node/libp2p-views.ts'
import { readersLenient } from '../../host/registry/lenient-readers.ts'
import { RegistryService } from '../../host/registry/registry-service.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { type Player, runScenario, waitUntil } from './harness.ts'

/** The registry as the daemon builds it (coordination-services.ts), its addresses wired the same way. */
function registryOf(
  player: Player,
  heartbeat: { interval_ms: number; stale_after_missed: number; offline_after_ms: number },
) {
  return new RegistryService({
    conductor: player.port,
    heartbeat,
    describe: async () => capability(),
    resampleIntervalMs: 60_000,
    loadSampler: new LoadSampler(),
    queueDepth: () => 0,
    isMember: () => true,
    addresses: agentAddresses(player.node.memberAddresses),
    readersLenient: () => readersLenient(player.node.versions),
    logger: silentLogger(),
  })
}

describe('a holder its pusher lost the address of', () => {
  it('is pushed to at the addresses its heartbeats told, without walking the directory', async () => {
    await runScenario({}, async (scenario) => {
      const [pusher, holder] = await scenario.addPlayers(2)
      await scenario.shareAllAgents()
      const registries = [
        registryOf(pusher!, scenario.network.heartbeat),
        registryOf(holder!, scenario.network.heartbeat),
      ]
      await Promise.all(registries.map((r) => r.start()))
      try {
        const told = holder!.node.memberAddresses.own()
        expect(told.length).toBeGreaterThan(0)
        const heard = () => pusher!.node.memberAddresses.of(holder!.node.peerId).map(String)
        await waitUntil(10_000, () => heard().join() === told.join())

        // The pusher forgets the holder: no connection, nothing in its peer store.
        const holderId = holder!.node.peerId
        // Forgotten before the hang-up, so no dial the hang-up sets off finds an address there.
        await pusher!.node.libp2p.peerStore.delete(holderId)
        await pusher!.node.libp2p.hangUp(holderId)
        const walks = vi.spyOn(pusher!.node.libp2p.services.directory, 'findPeer')
        const pushes = new OpPusher({
          rpc: pusher!.node.rpc,
          logger: silentLogger(),
          signal: AbortSignal.timeout(20_000),
        })
        const batch = { dnaHash: pusher!.conductor.cell('agent_registry').dnaHash, ops: [] }
        expect(await pushes.push(holder!.agentPubKey, batch)).toBe(true)
        expect(pushes.stats).toMatchObject({ sent: 1, acked: 1, failed: 0 })
        expect(walks).not.toHaveBeenCalled()
      } finally {
        await Promise.all(registries.map((r) => r.stop()))
      }
    })
  })
})
