/**
 * A restarted peer of a sharded mesh shards from its first moment: what its members stated is kept in
 * its data dir (net/heard-releases-file.ts), so it does not take every member it has not heard again
 * for an earlier release, keeping everything (and catching every chain up) until it heard them all.
 * It restarts alone, so nothing it knows can come from a hello or a heartbeat of this run.
 */
import { describe, expect, it } from 'vitest'
import { knownMembers } from '../../host/conductor/embedded/replication/membership.ts'
import { runScenario, waitUntil } from './harness.ts'
import { shardedMesh, shardedNetwork, shardsNow } from './sharded-mesh.ts'

describe('a restarted peer of a sharded mesh', { timeout: 120_000 }, () => {
  it('shards before it hears any member again', async () => {
    await runScenario({ network: shardedNetwork() }, async (scenario) => {
      const players = await shardedMesh(scenario, 4)
      const [restarted, others] = [players[0]!, players.slice(1)]
      await waitUntil(30_000, () =>
        others.every((o) => restarted.node.versions.of(o.agentPubKey)?.protocols.record === 1),
      )
      for (const other of others) await other.shutdown()
      await restarted.restart()
      const self = restarted.agentPubKey
      // As the daemon's registry has it just after a start: every member on record is awaited.
      restarted.node.versions.useMembers(() =>
        knownMembers(restarted.conductor, restarted.replication).filter((agent) => agent !== self),
      )
      expect(restarted.node.peers.list()).toEqual([])
      expect(knownMembers(restarted.conductor, restarted.replication)).toHaveLength(4)
      expect(shardsNow(restarted)).toBe(true)
    })
  })
})
