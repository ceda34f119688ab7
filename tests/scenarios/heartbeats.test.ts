import { describe, expect, it } from 'vitest'
import type { PeerStatus } from '../../host/interface/live-peers.ts'
import { PeerView } from '../../host/registry/index.ts'
import type { Heartbeat } from '../../zomes-bindings/index.ts'
import { HeartbeatSchema } from '../../zomes-bindings/index.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { BACKENDS, type Player, runScenario, waitUntil } from './harness.ts'

function heartbeat(): Heartbeat {
  return { cpu_pct: 12.5, ram_pct: 40, gpu_pct: null, queue_depth: 0, timestamp: Date.now() * 1000 }
}

/** Broadcasts a heartbeat every interval until stopped, as the registry service does. */
function beat(player: Player, intervalMs: number): () => void {
  const timer = setInterval(() => {
    player.port.broadcastSignal('agent_registry', heartbeat()).catch(() => {})
  }, intervalMs)
  return () => clearInterval(timer)
}

describe('heartbeats as signals over the mesh', () => {
  describe.each(BACKENDS)('on the %s backend', (backend) => {
    it('mark peers online while they beat, then stale, then offline once one stops', async () => {
      await runScenario({ backend }, async (scenario) => {
        const [alice, bob, carol] = await scenario.addPlayers(3)
        await scenario.shareAllAgents()
        const config = scenario.network.heartbeat
        // Alice's view of the mesh, fed the way the registry feeds it.
        const view = new PeerView(alice!.agentPubKey, config)
        alice!.port.onSignal((signal) => {
          const parsed = HeartbeatSchema.safeParse(signal.payload)
          if (signal.dna === 'agent_registry' && parsed.success)
            view.recordHeartbeat(signal.from, parsed.data, Date.now())
        })
        const status = (player: Player): PeerStatus | undefined =>
          view
            .list([], { capability: capability(), load: null }, Date.now())
            .find((entry) => entry.agent === player.agentPubKey)?.status

        const stopBob = beat(bob!, config.interval_ms)
        const stopCarol = beat(carol!, config.interval_ms)
        try {
          await waitUntil(5_000, () => status(bob!) === 'online' && status(carol!) === 'online')
          stopCarol()
          await carol!.shutdown()
          await waitUntil(5_000, () => status(carol!) === 'stale')
          expect(status(bob!)).toBe('online')
          await waitUntil(5_000, () => status(carol!) === 'offline')
          expect(status(bob!)).toBe('online')
        } finally {
          stopBob()
          stopCarol()
        }
      })
    })
  })
})
