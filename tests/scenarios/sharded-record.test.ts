/**
 * The sharded record on real peers (issue 57): with `record.holders` = 2 on six peers, a neighbourhood
 * op (a node capability and its links) is stored by its author, its basis holders and its author's
 * activity holders only (pushed to them, not gossiped), an everywhere op (a policy) by every peer, and
 * a peer that does not hold the capability reads it through backend.records from a holder, checked,
 * without keeping it. A mesh of R or more members keeps everything everywhere, as before.
 */
import { createHash } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeAction } from '../../host/conductor/embedded/action.ts'
import { knownMembers } from '../../host/conductor/embedded/replication/membership.ts'
import { placeOp } from '../../host/conductor/embedded/replication/op-placement.ts'
import { decodeOpBatch } from '../../host/conductor/embedded/replication/op-wire.ts'
import { recordReadsOf } from '../../host/conductor/embedded/replication/record-reads.ts'
import { decodeHashB64, encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import type { DnaName, Task } from '../../zomes-bindings/index.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { type Player, runScenario, scenarioNetwork, waitUntil } from './harness.ts'
import { opsHeld, placementOn } from './record-sync.ts'

const HOLDERS = 2
const names = (players: Player[]) => players.map((p) => p.name).sort()

/**
 * Waits until the op of `actionHash` is held by its author, basis and activity holders (the plan over
 * every player), then a while for any other copy; checks nobody else holds it, it never went on gossip,
 * and each player's own placement agrees. The players holding it.
 */
async function heldByItsHolders(
  players: Player[],
  author: Player,
  dna: DnaName,
  actionHash: string,
  gossiped: readonly Uint8Array[],
): Promise<Player[]> {
  const hash = decodeHashB64(actionHash, 'action')
  const stored = author.conductor.store.getAction(hash)!
  const action = decodeAction(stored.bytes)
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
  expect(names(holding)).toEqual(names(keepers))
  expect(holding.length).toBeLessThanOrEqual(2 * HOLDERS + 1)
  expect(holding.length).toBeLessThan(players.length)
  expect(gossiped.some((b) => Buffer.from(b).equals(Buffer.from(stored.bytes)))).toBe(false)
  // Every player's own plan agrees (each holds what it should, nobody else holds it).
  const known = opsHeld(players, dna)
  const planned = players.filter(
    (p) => p === author || placementOn(p, dna, action, hash, known).keep !== null,
  )
  expect(names(holding)).toEqual(names(planned))
  return holding
}

function task(): Task {
  return {
    kind: 'sha256',
    input_hash: createHash('sha256').update('sharded').digest('hex'),
    input_bytes: 16,
    input_cid: null,
    requirements: { min_ram_bytes: 0, min_vram_bytes: 0, gpu: false, min_cores: 1, model: null, tags: [] },
    lease_ms: 60_000,
    deadline: (Date.now() + 600_000) * 1000,
    max_attempts: 2,
    fan_out: 1,
  }
}

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
      const holding = await heldByItsHolders(players, author, 'agent_registry', ref.action_hash, gossiped)
      const hash = decodeHashB64(ref.action_hash, 'action')
      const others = players.filter((p) => !holding.includes(p))

      // A task likewise (resource_mesh), by another author.
      const submitted = await players[2]!.conductor.callZome('resource_mesh', 'submit_task', task())
      await heldByItsHolders(players, players[2]!, 'resource_mesh', submitted.action_hash, gossiped)

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
