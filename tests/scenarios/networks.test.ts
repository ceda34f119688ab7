import { describe, expect, it } from 'vitest'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { DNA_NAMES } from '../../zomes-bindings/index.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { type Player, runScenario, scenarioNetwork } from './harness.ts'

/** Every author whose actions a player holds, over every DNA it runs. */
function authorsHeld(player: Player): Set<string> {
  const { store } = player.conductor
  return new Set(
    DNA_NAMES.flatMap((dna) =>
      store.chainHeads(player.conductor.cell(dna).dnaHash).map((h) => encodeHashB64(h.author)),
    ),
  )
}

describe('two networks on one machine', () => {
  it('stay apart: mDNS, connections and ops never cross, even with the same name', async () => {
    await runScenario(async (scenario) => {
      const other = scenarioNetwork({ name: scenario.network.name })
      const [alice, bob] = await scenario.addPlayers(2)
      const [xena, yuri] = await scenario.addPlayers(2, { network: other })
      await scenario.shareAllAgents([alice!, bob!])
      await scenario.shareAllAgents([xena!, yuri!])
      await alice!.conductor.callZome('agent_registry', 'advertise_capability', capability({ name: 'alice' }))
      await xena!.conductor.callZome('agent_registry', 'advertise_capability', capability({ name: 'xena' }))
      await scenario.dhtSync([alice!, bob!], 'agent_registry')
      await scenario.dhtSync([xena!, yuri!], 'agent_registry')
      // A few anti-entropy rounds, so anything that could leak has had the chance to.
      await new Promise((resolve) => setTimeout(resolve, 1_500))

      const ours = new Set([alice!.agentPubKey, bob!.agentPubKey])
      const theirs = new Set([xena!.agentPubKey, yuri!.agentPubKey])
      for (const player of [alice!, bob!]) expect(authorsHeld(player)).toEqual(ours)
      for (const player of [xena!, yuri!]) expect(authorsHeld(player)).toEqual(theirs)
      for (const [a, b] of [
        [alice!, xena!],
        [bob!, yuri!],
      ] as const) {
        expect(a.node.peers.has(b.node.peerId)).toBe(false)
        expect(a.conductor.cell('agent_registry').dnaHash).not.toEqual(
          b.conductor.cell('agent_registry').dnaHash,
        )
      }
      expect(await bob!.conductor.callZome('agent_registry', 'list_nodes', null)).toHaveLength(1)
      expect(await yuri!.conductor.callZome('agent_registry', 'list_nodes', null)).toHaveLength(1)
    })
  })
})
