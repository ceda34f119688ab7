/**
 * Signals to one agent (a running task's tokens and progress go to its requester only): over a
 * direct stream between two of three real libp2p peers, signed, in order, and never seen by the
 * third peer; a signal to this host's own agent is delivered here.
 */
import { describe, expect, it } from 'vitest'
import type { Signal } from '../../host/interface/conductor-port.ts'
import { runScenario, waitUntil } from './harness.ts'

describe('signals to one agent', { timeout: 60_000 }, () => {
  it('reach that agent only, in the order they were sent', async () => {
    await runScenario(async (scenario) => {
      const [alice, bob, carol] = await scenario.addPlayers(3)
      await scenario.shareAllAgents()
      const heard = new Map<string, Signal[]>([
        ['alice', []],
        ['bob', []],
        ['carol', []],
      ])
      for (const p of [alice!, bob!, carol!]) {
        p.conductor.onSignal((s) => {
          if (s.dna === 'resource_mesh') heard.get(p.name)!.push(s)
        })
      }
      const tokens = Array.from({ length: 50 }, (_, i) => `token ${i}`)
      for (const token of tokens)
        void alice!.conductor.sendSignal('resource_mesh', bob!.agentPubKey, { token })
      await alice!.conductor.sendSignal('resource_mesh', alice!.agentPubKey, { token: 'to myself' })
      await waitUntil(20_000, () => heard.get('bob')!.length === tokens.length)

      expect(heard.get('bob')!.map((s) => (s.payload as { token: string }).token)).toEqual(tokens)
      expect(heard.get('bob')!.every((s) => s.from === alice!.agentPubKey)).toBe(true)
      expect(heard.get('alice')!.map((s) => s.payload)).toEqual([{ token: 'to myself' }])
      // Give stray copies time to arrive: the third peer hears nothing.
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(heard.get('carol')).toEqual([])
    })
  })
})
