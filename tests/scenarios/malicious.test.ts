import { describe, expect, it } from 'vitest'
import { encodeCanonical } from '../../host/identity/canonical.ts'
import { decodeHashB64, encodeHashB64 } from '../../host/identity/hash.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { authorCell, craftCreate, publishOps, strangerKey } from './forge.ts'
import { type Player, runScenario, type Scenario, waitUntil } from './harness.ts'

/** Alice and bob (honest) and mallory, connected and in sync on agent_registry. */
async function meshWithMallory(scenario: Scenario): Promise<[Player, Player, Player]> {
  const [alice, bob, mallory] = await scenario.addPlayers(3)
  await scenario.shareAllAgents()
  await mallory!.conductor.callZome('agent_registry', 'advertise_capability', capability({ name: 'mallory' }))
  await scenario.dhtSync([alice!, bob!, mallory!], 'agent_registry')
  return [alice!, bob!, mallory!]
}

/** Every honest peer warrants `culprit` for `rule`, and stores nothing of the op. */
async function expectRefusedEverywhere(
  honest: Player[],
  culprit: Player,
  rule: string,
  opHash: Uint8Array,
): Promise<void> {
  await waitUntil(10_000, () => honest.every((p) => p.replication.isWarranted(culprit.agentPubKey)))
  for (const peer of honest) {
    expect(peer.conductor.store.getAction(opHash)).toBeNull()
    expect(peer.replication.listWarrants()).toEqual([
      expect.objectContaining({
        agent: culprit.agentPubKey,
        dna: 'agent_registry',
        rule,
        action_hash: encodeHashB64(opHash),
        reported_by: peer.agentPubKey,
      }),
    ])
  }
}

/** Mallory's next honest write reaches nobody: its author is warranted. */
async function expectLaterOpsIgnored(honest: Player[], mallory: Player): Promise<void> {
  const ignoredBefore = honest.map((p) => p.replication.stats.ignored)
  const ref = await mallory.conductor.callZome(
    'agent_registry',
    'advertise_capability',
    capability({ name: 'mallory-again', tags: ['cpu'] }),
  )
  await waitUntil(10_000, () => honest.every((p, i) => p.replication.stats.ignored > ignoredBefore[i]!))
  for (const peer of honest) {
    // Not through catch-up either: warranted chains are neither asked for nor served.
    await peer.replication.syncNow()
    expect(peer.conductor.store.getAction(decodeHashB64(ref.action_hash))).toBeNull()
    const seen = await peer.conductor.callZome('agent_registry', 'get_capability', mallory.agentPubKey)
    expect(seen?.entry.name).toBe('mallory')
  }
}

describe('a malicious peer', () => {
  it('forging a signature is refused by every honest peer, and the sender is warranted', async () => {
    await runScenario(async (scenario) => {
      const [alice, bob, mallory] = await meshWithMallory(scenario)
      const forged = await craftCreate(
        authorCell(mallory, 'agent_registry'),
        'NodeCapability',
        capability({ name: 'forged' }),
        {
          signWith: strangerKey(),
        },
      )
      await publishOps(mallory, 'agent_registry', [forged.op])
      await expectRefusedEverywhere([alice, bob], mallory, 'sys.signature', forged.hash)
      await expectLaterOpsIgnored([alice, bob], mallory)
    })
  })

  it('rewriting its chain (a second action at a seq already published) is a fork, and warranted', async () => {
    await runScenario(async (scenario) => {
      const [alice, bob, mallory] = await meshWithMallory(scenario)
      const head = mallory.conductor.cell('agent_registry').chain.head.seq
      const fork = await craftCreate(
        authorCell(mallory, 'agent_registry'),
        'NodeCapability',
        capability({ name: 'rewritten' }),
        {
          prevSeq: head - 1,
        },
      )
      await publishOps(mallory, 'agent_registry', [fork.op])
      await expectRefusedEverywhere([alice, bob], mallory, 'chain.fork', fork.hash)
      await expectLaterOpsIgnored([alice, bob], mallory)
    })
  })

  it('an entry the rules refuse is refused by every honest peer, and its author warranted', async () => {
    await runScenario(async (scenario) => {
      const [alice, bob, mallory] = await meshWithMallory(scenario)
      // The rules' name_length rule: an empty name. Its own conductor would never sign this.
      const invalid = await craftCreate(
        authorCell(mallory, 'agent_registry'),
        'NodeCapability',
        capability({ name: '' }),
      )
      await publishOps(mallory, 'agent_registry', [invalid.op])
      await expectRefusedEverywhere([alice, bob], mallory, 'node_capability.name_length', invalid.hash)
      await expectLaterOpsIgnored([alice, bob], mallory)
    })
  })

  it('cannot frame another agent: what alice did not sign convicts whoever sent it', async () => {
    await runScenario(async (scenario) => {
      const [alice, bob, mallory, trudy] = await scenario.addPlayers(4)
      await scenario.shareAllAgents()
      await scenario.dhtSync([alice!, bob!, mallory!, trudy!], 'agent_registry')
      const real = await craftCreate(
        authorCell(alice!, 'agent_registry'),
        'NodeCapability',
        capability({ name: 'alice' }),
      )
      // Mallory claims alice signed something she did not; trudy swaps the entry under alice's signature.
      await publishOps(mallory!, 'agent_registry', [
        { ...real.op, signature: strangerKey().sign(real.op.action) },
      ])
      await publishOps(trudy!, 'agent_registry', [
        { ...real.op, entry: encodeCanonical(capability({ name: 'not-alice' })) },
      ])
      await waitUntil(10_000, () =>
        [mallory!, trudy!].every((culprit) => bob!.replication.isWarranted(culprit.agentPubKey)),
      )
      expect(bob!.replication.listWarrants().map((w) => [w.agent, w.rule])).toEqual(
        expect.arrayContaining([
          [mallory!.agentPubKey, 'sys.signature'],
          [trudy!.agentPubKey, 'sys.entry'],
        ]),
      )
      expect(bob!.replication.isWarranted(alice!.agentPubKey)).toBe(false)
      expect(bob!.conductor.store.getAction(real.hash)).toBeNull()
    })
  })
})
