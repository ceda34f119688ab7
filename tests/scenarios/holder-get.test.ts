/**
 * A get from holders (issue 57) on real peers (embedded conductors with their rules wasm, libp2p on
 * loopback): the asker stopped replicating once it knew the members, so a record written after that is
 * one it does not hold, and it gets it from the record's holders over `record/1.0.0`, checked. A holder
 * that serves an altered op is warranted and the next one asked; holders that cannot be reached are
 * passed over; a record nobody holds is a clear error.
 */
import { describe, expect, it } from 'vitest'
import {
  type HolderTry,
  RecordNotFoundError,
  RecordRefusedError,
} from '../../host/conductor/embedded/replication/errors.ts'
import { holdersToAsk } from '../../host/conductor/embedded/replication/holder-order.ts'
import { knownMembers } from '../../host/conductor/embedded/replication/membership.ts'
import { type WireOp, wireOpOf } from '../../host/conductor/embedded/replication/op-wire.ts'
import {
  encodeRecordAnswer,
  RECORD_GET_PROTOCOL,
} from '../../host/conductor/embedded/replication/record-get-wire.ts'
import { DEFAULT_RECORD_HOLDERS } from '../../host/config/network-schema.ts'
import { encodeCanonical } from '../../host/identity/canonical.ts'
import { decodeHashB64, encodeHashB64, hashContent } from '../../host/identity/hash.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { authorCell, craftCreate } from './forge.ts'
import { type Player, runScenario, type Scenario, scenarioNetwork } from './harness.ts'
import { recordSync } from './record-sync.ts'
import { holderGetOf } from './sharded-mesh.ts'

interface Mesh {
  players: Player[]
  author: Player
  asker: Player
  /** The capability the author wrote once the asker stopped replicating (its action hash). */
  record: string
}

/**
 * `count` players (each serves records); the last (the asker) stops replicating once every genesis is in,
 * then the first writes a record that reaches everyone else.
 */
async function meshWithAsker(scenario: Scenario, count: number): Promise<Mesh> {
  const players = await scenario.addPlayers(count)
  await scenario.shareAllAgents()
  await recordSync(players, 'agent_registry')
  const author = players[0]!
  const asker = players.at(-1)!
  await asker.replication.stop()
  const ref = await author.conductor.callZome(
    'agent_registry',
    'advertise_capability',
    capability({ name: 'far' }),
  )
  await recordSync(players.slice(0, -1), 'agent_registry')
  const record = ref.action_hash
  expect(asker.conductor.store.getAction(decodeHashB64(record, 'action'))).toBeNull()
  return { players, author, asker, record }
}

/** The players `asker` asks for `hash`, in the order it asks them. */
function askOrder(mesh: Mesh, hash: string): Player[] {
  const { asker, players } = mesh
  const order = holdersToAsk({
    basis: decodeHashB64(hash, 'action'),
    members: knownMembers(asker.conductor, asker.replication),
    holders: asker.network.record?.holders ?? DEFAULT_RECORD_HOLDERS,
    self: asker.agentPubKey,
    barred: () => false,
    connected: () => false,
  })
  return order.map((agent) => players.find((p) => p.agentPubKey === agent)!)
}

/** The op of `hash` as `holder` stores it. */
function heldOp(holder: Player, hash: string) {
  const { store } = holder.conductor
  const action = store.getAction(decodeHashB64(hash, 'action'))!
  return wireOpOf(action, action.entryHash && store.getEntry(action.entryHash))
}

/** An op's bytes as plain arrays: what came off the wire is a Buffer, what the store reads is not. */
const plain = (op: WireOp) => [op.action, op.signature, op.entry].map((b) => b && [...b])

/** `holder` answers every get with `answer` from now on; how many it answered. */
async function lie(holder: Player, answer: () => Uint8Array): Promise<{ answered: number }> {
  const count = { answered: 0 }
  await holder.node.rpc.unhandle(RECORD_GET_PROTOCOL)
  await holder.node.rpc.handle(RECORD_GET_PROTOCOL, async () => {
    count.answered++
    return answer()
  })
  return count
}

describe('a get from holders', { timeout: 120_000 }, () => {
  it('finds and checks a record the asker does not hold, from one of its holders', async () => {
    await runScenario(async (scenario) => {
      const mesh = await meshWithAsker(scenario, 4)
      const got = await holderGetOf(mesh.asker).get('agent_registry', mesh.record)
      expect(got.from).toBe(askOrder(mesh, mesh.record)[0]!.agentPubKey)
      expect(plain(got.op)).toEqual(plain(heldOp(mesh.author, mesh.record)))
      expect(encodeHashB64(got.action.author)).toBe(mesh.author.agentPubKey)
      // Handed back, not stored: where records live is not the get's to change.
      expect(mesh.asker.conductor.store.getAction(decodeHashB64(mesh.record, 'action'))).toBeNull()
      expect(mesh.asker.replication.listWarrants()).toEqual([])
    })
  })

  it('warrants holders that serve an altered op and takes the answer from the next', async () => {
    await runScenario(async (scenario) => {
      const mesh = await meshWithAsker(scenario, 5)
      const order = askOrder(mesh, mesh.record)
      // The author withholds its own record (a liar that is its author would bar it here, as ingest does).
      const [swapper, replacer, honest] = order.filter((p) => p !== mesh.author)
      const real = heldOp(mesh.author, mesh.record)
      const withheld = await lie(mesh.author, () => encodeRecordAnswer(null))
      // One swaps the entry under the author's signature; one serves another of the author's actions.
      const swapped = await lie(swapper!, () =>
        encodeRecordAnswer({ ...real, entry: encodeCanonical(capability({ name: 'not-far' })) }),
      )
      const other = mesh.author.conductor.cell('agent_registry').chain.head.hash
      const replaced = await lie(replacer!, () =>
        encodeRecordAnswer(heldOp(mesh.author, encodeHashB64(other))),
      )
      const get = holderGetOf(mesh.asker)

      const got = await get.get('agent_registry', mesh.record)
      expect(got.from).toBe(honest!.agentPubKey)
      expect(plain(got.op)).toEqual(plain(real))
      const warrants = mesh.asker.replication.listWarrants()
      expect(warrants.map((w) => [w.agent, w.rule, w.action_hash, w.reported_by])).toEqual(
        expect.arrayContaining([
          [swapper!.agentPubKey, 'sys.entry', mesh.record, mesh.asker.agentPubKey],
          [replacer!.agentPubKey, 'sys.hash', mesh.record, mesh.asker.agentPubKey],
        ]),
      )
      expect(warrants).toHaveLength(2)
      expect(mesh.asker.replication.isWarranted(mesh.author.agentPubKey)).toBe(false)
      // A record never changes: the next get is answered from what was kept (got-records), no holder asked.
      await get.get('agent_registry', mesh.record)
      expect([swapped.answered, replaced.answered]).toEqual([1, 1])
      expect(withheld.answered).toBe(order.indexOf(mesh.author) < order.indexOf(honest!) ? 1 : 0)
    })
  })

  it('refuses an op its author signed and the rules refuse, and warrants the author, not the holder', async () => {
    await runScenario(async (scenario) => {
      const mesh = await meshWithAsker(scenario, 3)
      const invalid = await craftCreate(
        authorCell(mesh.author, 'agent_registry'),
        'NodeCapability',
        capability({ name: '' }),
      )
      const hash = encodeHashB64(invalid.hash)
      const [holder] = askOrder(mesh, hash)
      await lie(holder!, () => encodeRecordAnswer(invalid.op))
      const refused = holderGetOf(mesh.asker).get('agent_registry', hash)
      await expect(refused).rejects.toThrow(RecordRefusedError)
      await expect(refused).rejects.toThrow('node_capability.name_length')
      expect(mesh.asker.replication.listWarrants().map((w) => [w.agent, w.rule])).toEqual([
        [mesh.author.agentPubKey, 'node_capability.name_length'],
      ])
    })
  })

  it('finds it while holders cannot be reached, until one is left', async () => {
    const network = scenarioNetwork({ record: { holders: 3 } })
    await runScenario({ network }, async (scenario) => {
      const mesh = await meshWithAsker(scenario, 6)
      const order = askOrder(mesh, mesh.record)
      // Three holders closest to the record, the asker maybe among them: those it asks are the others.
      expect(order.length).toBeGreaterThanOrEqual(2)
      const last = order.at(-1)!
      for (const gone of order.slice(0, -1)) await gone.shutdown()
      const got = await holderGetOf(mesh.asker).get('agent_registry', mesh.record)
      expect(got.from).toBe(last.agentPubKey)
      expect(plain(got.op)).toEqual(plain(heldOp(last, mesh.record)))
      expect(mesh.asker.replication.listWarrants()).toEqual([])
    })
  })

  it('says clearly when no holder has it', async () => {
    await runScenario(async (scenario) => {
      const mesh = await meshWithAsker(scenario, 3)
      const nowhere = encodeHashB64(hashContent(encodeCanonical({ never: 'written' }), 'action'))
      const error: RecordNotFoundError = await holderGetOf(mesh.asker)
        .get('agent_registry', nowhere)
        .then(
          () => expect.unreachable(),
          (err: unknown) => err as RecordNotFoundError,
        )
      expect(error).toBeInstanceOf(RecordNotFoundError)
      expect(error.message).toContain(`no holder has ${nowhere}`)
      expect(error.tries.map((t: HolderTry) => [t.holder, t.outcome])).toEqual(
        askOrder(mesh, nowhere).map((p) => [p.agentPubKey, 'lacks']),
      )
      expect(error.tries).toHaveLength(2)
    })
  })
})
