import { describe, expect, it } from 'vitest'
import { DNA_NAMES } from '../../zomes-bindings/index.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { BACKENDS, type Player, runScenario } from './harness.ts'

/** How many actions `now` holds beyond `before`, over every chain. */
function opsBeyond(before: Map<string, string>, now: Map<string, string>): number {
  const seq = (head: string | undefined) => (head === undefined ? -1 : Number(head.split(':')[0]))
  return [...now].reduce((sum, [author, head]) => sum + seq(head) - seq(before.get(author)), 0)
}

async function listedNames(player: Player): Promise<string[]> {
  const nodes = await player.port.callZome('agent_registry', 'list_nodes', null)
  return nodes.map((n) => n.entry.name).sort()
}

describe('catch-up by anti-entropy', () => {
  describe.each(BACKENDS)('on the %s backend', (backend) => {
    it('a late joiner receives everything written before it started, genesis included', async () => {
      await runScenario({ backend }, async (scenario) => {
        const [alice, bob] = await scenario.addPlayers(2)
        await alice!.port.callZome('agent_registry', 'advertise_capability', capability({ name: 'alice' }))
        await bob!.port.callZome('agent_registry', 'advertise_capability', capability({ name: 'bob' }))
        await scenario.dhtSync([alice!, bob!], 'agent_registry')

        const carol = await scenario.addPlayer()
        for (const dna of DNA_NAMES) await scenario.dhtSync([alice!, bob!, carol], dna)
        expect(await listedNames(carol)).toEqual(['alice', 'bob'])
        const { stats } = carol.replication
        expect(stats.fetched).toBeGreaterThan(0)
        expect(stats.refetched).toBe(0)
        expect(stats.rejected).toBe(0)
      })
    })

    it('a restarted peer catches up on what it missed, and fetches nothing it already had', async () => {
      await runScenario({ backend }, async (scenario) => {
        const [alice, bob, carol] = await scenario.addPlayers(3)
        await alice!.port.callZome('agent_registry', 'advertise_capability', capability({ name: 'alice' }))
        for (const dna of DNA_NAMES) await scenario.dhtSync([alice!, bob!, carol!], dna)
        const held = DNA_NAMES.map((dna) => carol!.heads(dna))

        await carol!.shutdown()
        await alice!.port.callZome(
          'agent_registry',
          'advertise_capability',
          capability({ name: 'alice', tags: ['gpu', 'fast'] }),
        )
        await bob!.port.callZome('agent_registry', 'advertise_capability', capability({ name: 'bob' }))
        await scenario.dhtSync([alice!, bob!], 'agent_registry')
        const missed = DNA_NAMES.reduce((sum, dna, i) => sum + opsBeyond(held[i]!, alice!.heads(dna)), 0)
        expect(missed).toBeGreaterThan(0)

        await carol!.startUp()
        for (const dna of DNA_NAMES) await scenario.dhtSync([alice!, bob!, carol!], dna)
        expect(await listedNames(carol!)).toEqual(['alice', 'bob'])
        const seen = await carol!.port.callZome('agent_registry', 'get_capability', alice!.agentPubKey)
        expect(seen?.entry.tags).toEqual(['gpu', 'fast'])
        const { stats } = carol!.replication
        // Gossip may still replay a recent commit to a peer that just connected (gossipsub IHAVE);
        // what catch-up fetched, it fetched once and only what was missing.
        expect(stats.fetched + stats.gossiped - stats.duplicates).toBe(missed)
        expect(stats.stored).toBe(missed)
        expect(stats.refetched).toBe(0)
      })
    })
  })
})

describe('ops written as a peer joins', () => {
  it('reach it without a periodic round, though their gossip went out before it was seen subscribing', async () => {
    await runScenario(async (scenario) => {
      // No periodic rounds: only gossip, the exchange on connecting and the one on subscribing remain.
      const [alice, bob] = await scenario.addPlayers(2, { syncIntervalMs: 600_000, discovery: 'explicit' })
      await scenario.shareAllAgents([alice!, bob!])
      // The first is fetched on connecting; the second, written once bob holds the first, goes out by
      // gossip before alice has seen bob subscribe (gossipsub sends it to no one), and bob asks for it.
      for (const name of ['first', 'second']) {
        await alice!.port.callZome('agent_registry', 'advertise_capability', capability({ name }))
        await scenario.dhtSync([alice!, bob!], 'agent_registry', 10_000)
      }
      const seen = await bob!.port.callZome('agent_registry', 'get_capability', alice!.agentPubKey)
      expect(seen?.entry.name).toBe('second')
    })
  })
})
