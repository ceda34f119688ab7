/**
 * Zome reads of records this peer does not hold (issue 57), on real peers (embedded conductors with
 * their rules wasm, libp2p on loopback). The asker stops replicating once every genesis is in, so the
 * task written after it (its claim, assignment and result) is held by the others alone; its zome calls
 * miss, get what they missed from the holders over `record/1.0.0` (records, what targets them, link
 * sets), checked, and run again. The mesh has no more members than `record.holders`, so the others
 * replicate in full; the asker's reads are made sharded, and it no holder of anything: every
 * neighbourhood read of it goes out. Last, a mesh sharded for real (R = 2 of 5, the replicator placing
 * and pushing ops, every peer's reads attached as the daemon attaches them): a peer that holds neither
 * the task nor the open-tasks anchor shows the one and lists the other.
 */
import { describe, expect, it } from 'vitest'
import { decodeAction } from '../../host/conductor/embedded/action.ts'
import { ActionTypes } from '../../host/conductor/embedded/hc-enums.ts'
import type { ReadMiss } from '../../host/conductor/embedded/remote-reads.ts'
import { HolderGet } from '../../host/conductor/embedded/replication/holder-get.ts'
import { HolderLists } from '../../host/conductor/embedded/replication/holder-lists.ts'
import { knownMembers } from '../../host/conductor/embedded/replication/membership.ts'
import { activityBasis, opBases } from '../../host/conductor/embedded/replication/op-basis.ts'
import { opHolders } from '../../host/conductor/embedded/replication/op-holders.ts'
import {
  decodeRecordAsk,
  decodeRecordListAnswer,
  encodeRecordList,
  encodeRecordListAnswer,
  RECORD_GET_PROTOCOL,
} from '../../host/conductor/embedded/replication/record-get-wire.ts'
import { holderGetInitOf } from '../../host/conductor/embedded/replication/record-reads.ts'
import { recordServer } from '../../host/conductor/embedded/replication/record-serve.ts'
import { zomeReads, zomeReadsOf } from '../../host/conductor/embedded/replication/zome-reads.ts'
import { DEFAULT_RECORD_HOLDERS } from '../../host/config/network-schema.ts'
import { encodeCanonical } from '../../host/identity/canonical.ts'
import { decodeHashB64, encodeHashB64, hashContent } from '../../host/identity/hash.ts'
import { peerIdOfAgent } from '../../host/identity/peer-agent.ts'
import { RequestRefusedError } from '../../host/net/errors.ts'
import type { DnaName } from '../../zomes-bindings/index.ts'
import { type AnswerLeaf, answerLeavesOf } from '../../zomes-bindings/index.ts'
import { claimSnapshot } from '../unit/conductor/fixtures/capability.ts'
import { okResultEntry, task as schedulerTask } from '../unit/scheduler/fixtures.ts'
import { type Player, runScenario, type Scenario, scenarioNetwork, waitUntil } from './harness.ts'
import { opsHeld } from './record-sync.ts'

const micros = (msFromNow: number) => (Date.now() + msFromNow) * 1000

/** A task of this test: open for ten minutes, its lease a minute. */
const task = () => schedulerTask({ input: { data: 'far' }, lease_ms: 60_000, deadline: micros(600_000) })

interface FarTask {
  players: Player[]
  author: Player
  asker: Player
  taskHash: string
}

/** `author` submits a task that `runner` claims, is assigned and answers (`settle` after each write); their hashes. */
async function taskLife(
  author: Player,
  runner: Player,
  settle: (writer: Player) => Promise<void>,
): Promise<{ task: string; claim: string }> {
  const submitted = await author.conductor.callZome('resource_mesh', 'submit_task', task())
  await settle(author)
  const claim = await runner.conductor.callZome('resource_mesh', 'claim_task', {
    task: submitted.action_hash,
    snapshot: claimSnapshot(),
  })
  await settle(runner)
  const assigned = await author.conductor.callZome('resource_mesh', 'assign_task', {
    task: submitted.action_hash,
    claim: claim.action_hash,
    assignee: runner.agentPubKey,
    slot: 0,
    attempt: 1,
    lease_expires_at: micros(60_000),
  })
  await settle(author)
  await runner.conductor.callZome(
    'resource_mesh',
    'post_result',
    okResultEntry(submitted.action_hash, assigned.action_hash, 'x', micros(0)),
  )
  await settle(runner)
  return { task: submitted.action_hash, claim: claim.action_hash }
}

/** A task claimed, assigned and answered among `count - 1` players after the last stopped replicating. */
async function farTask(scenario: Scenario, count: number): Promise<FarTask> {
  const players = await scenario.addPlayers(count)
  await scenario.shareAllAgents()
  await scenario.dhtSync(players, 'agent_registry')
  const [author, runner] = players as [Player, Player]
  const asker = players.at(-1)!
  await asker.replication.stop()
  const others = players.slice(0, -1)
  const { task: taskHash } = await taskLife(author, runner, () => scenario.dhtSync(others, 'resource_mesh'))
  return { players, author, asker, taskHash }
}

/** The asker's zome reads go to holders: sharded, and no holder of anything itself; closest asked first. */
function readFromHolders(asker: Player): void {
  const init = { ...holderGetInitOf(asker, asker.network, 5_000), connected: () => false }
  asker.conductor.remoteReads.attach(
    zomeReads({
      conductor: asker.conductor,
      holderGet: new HolderGet(init),
      holderLists: new HolderLists(init),
      members: () => [...init.members()].filter((agent) => agent !== asker.agentPubKey),
      holders: init.holders,
      sharded: () => true,
    }),
  )
}

/** As many holders as players: records are not sharded, so the others keep everything as today. */
const HOLDERS = 5
const network = scenarioNetwork({ record: { holders: HOLDERS } })

describe('zome reads of records held elsewhere', { timeout: 180_000 }, () => {
  it('shows a far task with its claim, assignment and result, as its author sees it, storing none of it', async () => {
    await runScenario({ network }, async (scenario) => {
      const far = await farTask(scenario, 5)
      expect(far.asker.conductor.store.getAction(decodeHashB64(far.taskHash, 'action'))).toBeNull()
      const before = await far.asker.conductor.callZome('resource_mesh', 'get_task_state', far.taskHash)
      expect(before).toBeNull()
      readFromHolders(far.asker)
      const state = await far.asker.conductor.callZome('resource_mesh', 'get_task_state', far.taskHash)
      const truth = await far.author.conductor.callZome('resource_mesh', 'get_task_state', far.taskHash)
      expect(state?.status).toBe('running')
      expect(state?.claims).toHaveLength(1)
      expect(state?.results).toHaveLength(1)
      expect(JSON.stringify(state?.task)).toBe(JSON.stringify(truth?.task))
      expect(state?.assignments.map((a) => a.action_hash)).toEqual(
        truth?.assignments.map((a) => a.action_hash),
      )
      expect(far.asker.conductor.store.getAction(decodeHashB64(far.taskHash, 'action'))).toBeNull()
      expect(far.asker.replication.listWarrants()).toEqual([])
    })
  })

  it("lists the open tasks on an anchor it does not hold; a holder's forged link set is refused and warranted", async () => {
    await runScenario({ network }, async (scenario) => {
      const far = await farTask(scenario, 5)
      readFromHolders(far.asker)
      const anchor = hashContent(encodeCanonical(['anchor', 'open_tasks']), 'entry')
      const members = far.players.map((p) => p.agentPubKey)
      const order = opHolders(anchor, members, HOLDERS)
        .filter((agent) => agent !== far.asker.agentPubKey)
        .map((agent) => far.players.find((p) => p.agentPubKey === agent)!)
      // The liar must not be the task's author: a warranted author's records are not taken here.
      const liar = order.find((p) => p !== far.author)!
      const serve = (p: Player) =>
        recordServer({ store: p.conductor.store, lists: p.conductor.store, barred: () => false })
      if (order.indexOf(far.author) < order.indexOf(liar)) {
        // Asked before the liar, the author answers no lists (a holder that fails is passed over).
        const gets = serve(far.author)
        await far.author.node.rpc.unhandle(RECORD_GET_PROTOCOL)
        await far.author.node.rpc.handle(RECORD_GET_PROTOCOL, async (bytes, peer) => {
          if (decodeRecordAsk(bytes).kind === 'list') throw new Error('no lists here')
          return gets(bytes, peer)
        })
      }
      // It answers gets as it should, and link sets with every link's signature broken.
      const honest = serve(liar)
      await liar.node.rpc.unhandle(RECORD_GET_PROTOCOL)
      await liar.node.rpc.handle(RECORD_GET_PROTOCOL, async (bytes, peer) => {
        const answer = await honest(bytes, peer)
        if (decodeRecordAsk(bytes).kind !== 'list') return answer
        const { ops, more } = decodeRecordListAnswer(answer)
        const forged = ops.map((op) => ({
          ...op,
          signature: op.signature.map((b, i) => (i === 0 ? b ^ 1 : b)),
        }))
        return encodeRecordListAnswer({ ops: forged, more })
      })
      const open = await far.asker.conductor.callZome('resource_mesh', 'list_open_tasks', null)
      expect(open.map((t) => t.action_hash)).toEqual([far.taskHash])
      const warrants = far.asker.replication.listWarrants()
      expect(warrants.map((w) => [w.agent, w.rule])).toContainEqual([liar.agentPubKey, 'sys.signature'])
      expect(far.asker.replication.isWarranted(far.author.agentPubKey)).toBe(false)
      // Members only: a member is answered a list; the liar, warranted, is no member of the asker's mesh
      // once the gate's word on it (5 s) runs out, and is answered none.
      const targets = encodeRecordList(far.asker.conductor.cell('resource_mesh').dnaHash, {
        kind: 'targets',
        hash: decodeHashB64(far.taskHash, 'action'),
      })
      const ask = (from: Player) =>
        from.node.rpc.request(peerIdOfAgent(far.asker.agentPubKey), RECORD_GET_PROTOCOL, targets, {
          timeoutMs: 5_000,
        })
      expect(decodeRecordListAnswer(await ask(far.author)).ops).toEqual([])
      await new Promise((resolve) => setTimeout(resolve, 5_500))
      await expect(ask(liar)).rejects.toThrow(RequestRefusedError)
    })
  })

  it("gets a runner's answer batch it does not hold, as a requester checking a proof reads it", async () => {
    await runScenario({ network }, async (scenario) => {
      const far = await farTask(scenario, 4)
      const runner = far.players[1]!
      const now = Date.now() * 1000
      const leaf: AnswerLeaf = {
        request: '0'.repeat(64),
        requester: far.asker.agentPubKey,
        model: 'm',
        model_file_hash: null,
        status: 'ok',
        output_hash: 'f'.repeat(64),
        tokens_in: 3,
        tokens_out: 1,
        started_at: now - 1_000_000,
        finished_at: now,
      }
      const batch = await runner.conductor.callZome('resource_mesh', 'post_answer_batch', {
        leaves: answerLeavesOf([leaf]),
        opened_at: now,
        closed_at: now,
      })
      await scenario.dhtSync(far.players.slice(0, -1), 'resource_mesh')
      readFromHolders(far.asker)
      const got = await far.asker.conductor.callZome('resource_mesh', 'get_answer_batch', batch.batch)
      const truth = await runner.conductor.callZome('resource_mesh', 'get_answer_batch', batch.batch)
      expect(got).not.toBeNull()
      expect(JSON.stringify(got)).toBe(JSON.stringify(truth))
      expect(far.asker.conductor.store.getAction(decodeHashB64(batch.batch, 'action'))).toBeNull()
    })
  })
})

describe('zome reads where records are sharded (R = 2 of 5)', { timeout: 180_000 }, () => {
  const sharded = scenarioNetwork({ record: { holders: 2 } })

  it("shows a far task and lists an anchor it does not hold, as the daemon's reads do", async () => {
    await runScenario({ network: sharded }, async (scenario) => {
      const players = await scenario.addPlayers(5)
      await scenario.shareAllAgents()
      // Every member known to every player (chains differ by design once sharded: no dhtSync).
      await waitUntil(15_000, () =>
        players.every((p) => knownMembers(p.conductor, p.replication).length === players.length),
      )
      for (const p of players) p.conductor.remoteReads.attach(zomeReadsOf(p, p.network, 5_000))
      const [author, runner] = players as [Player, Player]
      // What this test reads, held by the holders of its bases (recordSync also waits for actions no
      // read here needs, which sharded replication may still be pushing).
      const synced = (writer: Player) => heldAtBases(players, writer, 'resource_mesh')
      const life = await taskLife(author, runner, synced)
      const members = players.map((p) => p.agentPubKey)
      // No holder of `basis`, nor the writer; fewest of the writers' activity holders (which keep their
      // chains, so hold some of what is read here; at R = 2 of 5 there may be no peer with none of it).
      const activity = [author, runner].flatMap((w) =>
        opHolders(decodeHashB64(w.agentPubKey, 'agent'), members, 2),
      )
      const far = (basis: Uint8Array) =>
        players
          .filter(
            (p) => p !== author && p !== runner && !opHolders(basis, members, 2).includes(p.agentPubKey),
          )
          .sort(
            (x, y) =>
              activity.filter((a) => a === x.agentPubKey).length -
              activity.filter((a) => a === y.agentPubKey).length,
          )[0]!
      const held = (p: Player) => opsHeld([p], 'resource_mesh').size
      const taskHash = decodeHashB64(life.task, 'action')
      const bystander = far(taskHash)
      const heldBefore = held(bystander)
      const shown = counted(bystander)
      const state = await bystander.conductor.callZome('resource_mesh', 'get_task_state', life.task)
      expect(state?.status).toBe('running')
      expect(state?.claims.map((c) => c.action_hash)).toEqual([life.claim])
      expect(state?.results).toHaveLength(1)
      // At most: the task (with what targets it); its five link sets; the claim, assignment and result.
      expect(shown.rounds.length).toBeGreaterThan(0)
      expect(shown.rounds.flat().length).toBeLessThanOrEqual(9)
      expect(held(bystander)).toBe(heldBefore)

      const anchor = hashContent(encodeCanonical(['anchor', 'open_tasks']), 'entry')
      const lister = far(anchor)
      const listedBefore = held(lister)
      const listed = counted(lister)
      const open = await lister.conductor.callZome('resource_mesh', 'list_open_tasks', null)
      expect(open.map((t) => t.action_hash)).toEqual([life.task])
      // The anchor's links first, whatever of the author's chain it holds.
      expect(listed.rounds[0]?.map((m) => m.kind)).toContain('links')
      expect(held(lister)).toBe(listedBefore)
      for (const p of players) expect(p.replication.listWarrants()).toEqual([])
    })
  })
})

/**
 * Waits until each record and link `writer` wrote in `dna` is held by every holder of each of its bases,
 * and its whole chain by its activity holders (a reader among those must not take in more while read).
 */
async function heldAtBases(players: readonly Player[], writer: Player, dna: DnaName): Promise<void> {
  const members = players.map((p) => p.agentPubKey)
  const holders = writer.network.record?.holders ?? DEFAULT_RECORD_HOLDERS
  const { store } = writer.conductor
  const cell = writer.conductor.cell(dna)
  const ops = [...store.chainActions(cell.dnaHash, cell.agentPubKey)].map((stored) => ({
    stored,
    action: decodeAction(stored.bytes),
  }))
  const activity = activityBasis(cell.agentPubKey)
  const lacking = () =>
    ops.flatMap(({ stored, action }) =>
      [...(READ_HERE.has(action.type) ? opBases(action, stored.hash) : []), activity].flatMap((basis) =>
        opHolders(basis, members, holders)
          .map((agent) => players.find((p) => p.agentPubKey === agent)!)
          .filter((p) => p.conductor.store.getAction(stored.hash) === null)
          .map((p) => `${p.name} lacks ${action.type} ${encodeHashB64(stored.hash)}`),
      ),
    )
  await waitUntil(30_000, () => lacking().length === 0).catch(() => {
    throw new Error(`not held at their bases: ${lacking().join(', ')}`)
  })
}

/** The actions zome reads read: records, their updates and deletes, links. */
const READ_HERE = new Set<string>([
  ActionTypes.Create,
  ActionTypes.Update,
  ActionTypes.Delete,
  ActionTypes.CreateLink,
  ActionTypes.DeleteLink,
])

/** `player`'s zome reads as the daemon attaches them, each round's misses noted. */
function counted(player: Player): { rounds: ReadMiss[][] } {
  const reads = zomeReadsOf(player, player.network, 5_000)
  const rounds: ReadMiss[][] = []
  player.conductor.remoteReads.attach({
    elsewhere: (dna, basis, type) => reads.elsewhere(dna, basis, type),
    fetch: (dna, misses, signal, fn) => {
      rounds.push([...misses])
      return reads.fetch(dna, misses, signal, fn)
    },
  })
  return { rounds }
}
