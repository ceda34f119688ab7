/**
 * A far member's capability on a mesh sharded for real (R = 2 of 5, every peer's zome reads attached
 * as the daemon attaches them; issue 56/57): a peer that holds neither the member's chain nor what is
 * filed under its key reads the capability (get_capability) from its holders when it hears the
 * member's heartbeat, and its new version once a heartbeat names it, with no list_nodes.
 */
import { describe, expect, it } from 'vitest'
import { knownMembers } from '../../host/conductor/embedded/replication/membership.ts'
import { opHolders } from '../../host/conductor/embedded/replication/op-holders.ts'
import { zomeReadsOf } from '../../host/conductor/embedded/replication/zome-reads.ts'
import { LoadSampler } from '../../host/hardware/load-sampler.ts'
import { decodeHashB64 } from '../../host/identity/hash.ts'
import type { ConductorPort } from '../../host/interface/conductor-port.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { RegistryService } from '../../host/registry/registry-service.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { type Player, runScenario, scenarioNetwork, waitUntil } from './harness.ts'

/** The registry as the daemon builds it on a sharded mesh (coordination-services.ts), list_nodes counted. */
function registryOf(player: Player, name: () => string, lists: { count: number }) {
  const port = player.port
  const callZome = ((dna: string, fn: string, payload: unknown) => {
    if (fn === 'list_nodes') lists.count++
    return port.callZome(dna as 'agent_registry', fn as 'list_nodes', payload as null)
  }) as ConductorPort['callZome']
  const conductor = new Proxy(port, {
    get: (target, key) => {
      if (key === 'callZome') return callZome
      const value: unknown = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return new RegistryService({
    conductor,
    heartbeat: player.network.heartbeat,
    describe: async () => capability({ name: name() }),
    resampleIntervalMs: 60_000,
    loadSampler: new LoadSampler(),
    queueDepth: () => 0,
    isMember: () => true,
    sharding: { now: () => true, members: () => knownMembers(player.conductor, player.replication) },
    logger: silentLogger(),
  })
}

describe('capabilities on a sharded mesh (R = 2 of 5)', { timeout: 180_000 }, () => {
  it("reads a far member's capability when it hears it, and its new version when a heartbeat names it", async () => {
    await runScenario({ network: scenarioNetwork({ record: { holders: 2 } }) }, async (scenario) => {
      const players = await scenario.addPlayers(5)
      await scenario.shareAllAgents()
      await waitUntil(15_000, () =>
        players.every((p) => knownMembers(p.conductor, p.replication).length === players.length),
      )
      for (const p of players) p.conductor.remoteReads.attach(zomeReadsOf(p, p.network, 5_000))
      const members = players.map((p) => p.agentPubKey)
      const [writer] = players as [Player]
      // Holds neither the writer's chain nor its agent-keyed links (its activity holders hold both).
      const near = opHolders(decodeHashB64(writer.agentPubKey, 'agent'), members, 2)
      const reader = players.find((p) => p !== writer && !near.includes(p.agentPubKey))!
      let writerName = 'first'
      const lists = { count: 0 }
      const registries = [
        registryOf(writer, () => writerName, lists),
        registryOf(reader, () => 'reader', lists),
      ]
      await Promise.all(registries.map((r) => r.start()))
      try {
        const [ofWriter, ofReader] = registries as [RegistryService, RegistryService]
        let shown: string | null | undefined
        const watch = async (name: string) => {
          const deadline = Date.now() + 30_000
          while (shown !== name && Date.now() < deadline) {
            shown = (await ofReader.peers()).find((p) => p.agent === writer.agentPubKey)?.name
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
          return shown
        }
        expect(await watch('first')).toBe('first')
        writerName = 'renamed'
        await ofWriter.refresh()
        expect(await watch('renamed')).toBe('renamed')
        const peers = await ofReader.peers()
        expect(peers.map((p) => p.agent).sort()).toEqual([...members].sort())
        expect(lists.count).toBe(0)
      } finally {
        await Promise.all(registries.map((r) => r.stop()))
      }
    })
  })
})
