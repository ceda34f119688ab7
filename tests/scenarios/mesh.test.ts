import { describe, expect, it } from 'vitest'
import { decodeHashB64 } from '../../host/identity/hash.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { BACKENDS, runScenario } from './harness.ts'

describe('a mesh of three peers', () => {
  describe.each(BACKENDS)('on the %s backend', (backend) => {
    it('discover each other by mDNS on 127.0.0.1, and a write on one is visible and valid on all', async () => {
      await runScenario({ backend }, async (scenario) => {
        const [alice, bob, carol] = await scenario.addPlayers(3)
        await scenario.shareAllAgents()
        // On 'holochain' each host drives its conductor through @holochain/client over a WebSocket.
        for (const player of [alice!, bob!, carol!]) expect(player.port.backend).toBe(backend)
        for (const player of [alice!, bob!, carol!]) {
          for (const conn of player.node.libp2p.getConnections()) {
            expect(conn.remoteAddr.toString()).toMatch(/^\/ip4\/127\./)
          }
        }
        const ref = await alice!.port.callZome(
          'agent_registry',
          'advertise_capability',
          capability({ name: 'alice' }),
        )
        await scenario.dhtSync([alice!, bob!, carol!], 'agent_registry')
        for (const reader of [bob!, carol!]) {
          const seen = await reader.port.callZome('agent_registry', 'get_capability', alice!.agentPubKey)
          expect(seen).toMatchObject({
            action_hash: ref.action_hash,
            author: alice!.agentPubKey,
            entry: capability({ name: 'alice' }),
          })
          const nodes = await reader.port.callZome('agent_registry', 'list_nodes', null)
          expect(nodes.map((n) => n.author)).toContain(alice!.agentPubKey)
          const links = await reader.conductor
            .cell('agent_registry')
            .call((hdk) => hdk.get_links(hdk.anchor('all_nodes'), 'AllNodes'))
          expect(links.map((l) => l.target)).toContainEqual(decodeHashB64(alice!.agentPubKey))
          expect(reader.replication.stats.rejected).toBe(0)
          expect(reader.replication.listWarrants()).toEqual([])
        }
      })
    })
  })
})
