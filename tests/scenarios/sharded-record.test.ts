/**
 * The sharded record on real peers (issue 57): with `record.holders` = 2 on six peers, a neighbourhood
 * op (a node capability and its links) is stored by its author, its basis holders and its author's
 * activity holders only (pushed to them, not gossiped), an everywhere op (a policy) by every peer, and
 * a peer that does not hold the capability reads it through backend.records from a holder, checked,
 * without keeping it. A mesh of R or more members keeps everything everywhere, as before.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeAction } from '../../host/conductor/embedded/action.ts'
import { knownMembers } from '../../host/conductor/embedded/replication/membership.ts'
import { placeOp } from '../../host/conductor/embedded/replication/op-placement.ts'
import { decodeOpBatch } from '../../host/conductor/embedded/replication/op-wire.ts'
import { recordReadsOf } from '../../host/conductor/embedded/replication/record-reads.ts'
import { serveRecords } from '../../host/conductor/embedded/replication/record-serve.ts'
import { decodeHashB64, encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { type Player, runScenario, scenarioNetwork, waitUntil } from './harness.ts'
import { opsHeld, placementOn } from './record-sync.ts'

const HOLDERS = 2
const names = (players: Player[]) => players.map((p) => p.name).sort()

describe('records sharded among their holders', { timeout: 240_000 }, () => {
  it('keeps a neighbourhood op at its holders only, an everywhere op on all; a non-holder reads it', async () => {
    const adminDir = await mkdtemp(join(tmpdir(), 'ripple-scenario-admin-'))
    const adminKey = await openAgentKey(adminDir)
    const network = scenarioNetwork({
      record: { holders: HOLDERS },
      dna_properties: { policy_store: { progenitor: encodeHashB64(adminKey.agentPubKey) } },
    })
    await runScenario({ network }, async (scenario) => {
      const admin = await scenario.addPlayer({ dataDir: adminDir })
      const players = [admin, ...(await scenario.addPlayers(5))]
      await scenario.shareAllAgents()
      // Every peer counts all six (so shards); what else each holds is anti-entropy's (S2), not waited for.
      await waitUntil(20_000, () =>
        players.every((p) => knownMembers(p.conductor, p.replication).length === players.length),
      )
      for (const p of players) await serveRecords(p.node, p.conductor, p.replication)

      // What reaches each peer on the gossip topic: a neighbourhood op must not.
      const gossiped: Uint8Array[] = []
      for (const p of players)
        p.node.pubsub.addEventListener('op', (evt) => {
          for (const op of decodeOpBatch(evt.detail.data).ops) gossiped.push(op.action)
        })
      const author = players[1]!
      const ref = await author.conductor.callZome(
        'agent_registry',
        'advertise_capability',
        capability({ name: 'sharded' }),
      )
      const hash = decodeHashB64(ref.action_hash, 'action')
      const action = decodeAction(author.conductor.store.getAction(hash)!.bytes)
      // Its author, its basis holders and its author's activity holders, by the plan over all six.
      const plan = placeOp({
        action,
        hash,
        scope: 'neighbourhood',
        members: players.map((p) => p.agentPubKey),
        holders: HOLDERS,
        self: author.agentPubKey,
        sharded: true,
      })
      expect(plan.gossip).toBe(false)
      const keepers = players.filter((p) => p === author || plan.pushTo.includes(p.agentPubKey))
      // Pushed to them; then a while for any other copy to show up (none should).
      await waitUntil(10_000, () => keepers.every((p) => p.conductor.store.getAction(hash) !== null))
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      const holding = players.filter((p) => p.conductor.store.getAction(hash) !== null)
      const bytes = author.conductor.store.getAction(hash)!.bytes
      expect(gossiped.some((b) => Buffer.from(b).equals(Buffer.from(bytes)))).toBe(false)
      expect(new Set(holding.map((p) => p.agentPubKey))).toEqual(
        new Set([author.agentPubKey, ...plan.pushTo]),
      )
      expect(holding.length).toBeLessThanOrEqual(2 * HOLDERS + 1)
      const others = players.filter((p) => !holding.includes(p))
      expect(others.length).toBeGreaterThan(0)
      // Every player's own plan agrees (each holds what it should, nobody else holds it).
      const known = opsHeld(players, 'agent_registry')
      expect(names(holding)).toEqual(
        names(
          players.filter(
            (p) => p === author || placementOn(p, 'agent_registry', action, hash, known).keep !== null,
          ),
        ),
      )

      // A policy is everywhere: every peer holds it.
      await admin.conductor.callZome('policy_store', 'publish_policy', {
        id: 'sharded',
        version: 1,
        text: 'permit(principal, action, resource);',
        description: '',
        admin_grant: null,
      })
      const policyDna = admin.conductor.cell('policy_store').dnaHash
      const policy = admin.conductor.store.chainHead(policyDna, adminKey.agentPubKey)!.hash
      await waitUntil(10_000, () => players.every((p) => p.conductor.store.getAction(policy) !== null))
      expect(names(players.filter((p) => p.conductor.store.getAction(policy) !== null))).toEqual(
        names(players),
      )

      // A peer that does not hold the capability reads it from a holder, checked, and keeps none of it.
      const reader = others[0]!
      const read = await recordReadsOf(reader, reader.network, 5_000).read('agent_registry', ref.action_hash)
      expect(holding.map((p) => p.agentPubKey)).toContain(read.from)
      expect(read.held).toBe(false)
      expect(reader.conductor.store.getAction(hash)).toBeNull()
      expect(players.flatMap((p) => p.replication.listWarrants())).toEqual([])
    })
  })

  it('keeps everything everywhere on a mesh of R or more members, chain heads equal, as before', async () => {
    await runScenario(async (scenario) => {
      const players = await scenario.addPlayers(4)
      await scenario.shareAllAgents()
      await scenario.dhtSync(players, 'agent_registry')
      const ref = await players[0]!.conductor.callZome(
        'agent_registry',
        'advertise_capability',
        capability({ name: 'everywhere' }),
      )
      await scenario.dhtSync(players, 'agent_registry')
      const hash = decodeHashB64(ref.action_hash, 'action')
      for (const p of players) expect(p.conductor.store.getAction(hash)?.held).toBeUndefined()
      expect(
        players.every(
          (p) => [...p.conductor.store.heldActions(p.conductor.cell('agent_registry').dnaHash)].length === 0,
        ),
      ).toBe(true)
    })
  })
})
