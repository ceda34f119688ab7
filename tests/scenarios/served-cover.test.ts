/**
 * Who asked whom, as a bystander sees it (issue 43, point 4). Four members of a private mesh over the
 * real embedded conductor, rules wasm and libp2p on loopback: Bob runs (a stand-in worker that echoes),
 * Alice asks him once, later Dave asks him once, and Carol only watches. Alice and Dave sign their
 * record of what they asked on every slot of a shared grid whether they asked or not, and say no count
 * in public: Carol's view of the slot in which Alice asked is the view of the slot in which Dave asked,
 * and in each slot both wrote the same. The runner's own batch is public as before (its heartbeats tell
 * every member its free slots anyway); who asked it is what Carol cannot tell.
 */
import { describe, expect, it } from 'vitest'
import { decodeAction } from '../../host/conductor/embedded/action.ts'
import { entryTypeName } from '../../host/conductor/embedded/validation/record-rules.ts'
import { decodeMsgpack } from '../../host/identity/canonical.ts'
import { decodeHashB64, encodeHashB64 } from '../../host/identity/hash.ts'
import { COVER_REASON, type ServedBatch, type ServedLeaves } from '../../zomes-bindings/index.ts'
import { ask, directService, echo, privateMesh } from './direct-mesh.ts'
import { type Player, runScenario, waitUntil } from './harness.ts'

/** The slot of the grid every member signs on (short here; a network's `record.served_slot_ms`). */
const SLOT_MS = 2_000

interface Written {
  type: string
  /** Microseconds, as the action says. */
  timestamp: number
  entryHash: string | null
  /** The entry, where the bystander holds it (public entries only). */
  entry: unknown
}

/** Everything `watcher` holds of `author`'s resource_mesh chain, in chain order. */
function chainAsSeenBy(watcher: Player, author: Player): Written[] {
  const cell = watcher.conductor.cell('resource_mesh')
  const store = watcher.conductor.store
  return [...store.chainActions(cell.dnaHash, decodeHashB64(author.agentPubKey, 'agent'))].map((a) => {
    const type = entryTypeName(decodeAction(a.bytes), cell.dna) ?? a.type
    // App entries are msgpack; the agent's key (its first entry) is raw bytes.
    const entry = type !== 'Agent' && a.entryHash ? store.getEntry(a.entryHash) : null
    return {
      type,
      timestamp: a.timestamp,
      entryHash: a.entryHash && encodeHashB64(a.entryHash),
      entry: entry ? decodeMsgpack(entry.bytes) : null,
    }
  })
}

/**
 * What a bystander sees a member write for the slot opening at `openedAt` (µs): each action's type, the
 * public batch's fields less its hashes, and whether it was written after the slot had ended.
 */
function slotView(chain: Written[], openedAt: number) {
  const at = chain.findIndex(
    (w) => w.type === 'ServedBatch' && (w.entry as ServedBatch).opened_at === openedAt,
  )
  if (at < 1) return null
  const [leaves, batch] = [chain[at - 1]!, chain[at]!]
  const { root: _root, leaves: cited, opened_at, closed_at, ...figures } = batch.entry as ServedBatch
  return {
    types: [leaves.type, batch.type],
    leavesWithheld: leaves.entry === null,
    citesItsLeaves: cited === leaves.entryHash,
    figures,
    /** The window's bounds from the slot's start. */
    window: [opened_at - openedAt, closed_at - openedAt],
    writtenAfterTheSlot: leaves.timestamp >= closed_at && batch.timestamp >= closed_at,
  }
}

describe('the record of who asked whom, as a bystander sees it', { timeout: 120_000 }, () => {
  it('every member signs the same record on every slot whether it asked or not: a bystander cannot tell who asked', async () => {
    await runScenario(async (scenario) => {
      const [alice, bob, dave, carol] = await privateMesh(scenario, [], 3)
      const runner = directService(bob!, null, echo, undefined, SLOT_MS)
      const askers = [alice!, dave!].map((p) => directService(p, bob!, null, undefined, SLOT_MS))
      await runner.start()
      // Before the askers start: a slot begun while one starts is one it ran through (a slow start under
      // load made the bound below one short).
      const started = Date.now()
      for (const asker of askers) await asker.start()

      // Alice asks once; a slot later Dave asks once.
      const byAlice = await ask(askers[0]!, 'alice asks')
      expect(await byAlice.recorded).not.toBeNull()
      await new Promise((resolve) => setTimeout(resolve, SLOT_MS))
      const byDave = await ask(askers[1]!, 'dave asks')
      expect(await byDave.recorded).not.toBeNull()

      // Each party holds its own record, proven against Bob's batch.
      const records = [await askers[0]!.served(byAlice.request), await askers[1]!.served(byDave.request)]
      for (const record of records) {
        expect(record?.served?.leaf).toMatchObject({ runner: bob!.agentPubKey, accepted: true })
        expect(record?.checks.served?.valid).toBe(true)
      }
      const [aliceSlot, daveSlot] = records.map((r) => r!.served!.batch.entry.opened_at)
      expect(daveSlot).toBeGreaterThan(aliceSlot!)
      // Alice signs Dave's slot on her own timer when it closes, not when Dave's record lands: under
      // load it can come later, and stopping first would leave that slot unsigned by the test, not by her.
      const signed = (p: Player) =>
        chainAsSeenBy(p, p).some(
          (w) => w.type === 'ServedBatch' && (w.entry as ServedBatch).opened_at === daveSlot,
        )
      await waitUntil(30_000, () => signed(alice!) && signed(dave!))
      for (const asker of askers) await asker.stop()
      await runner.stop()
      const stopped = Date.now()

      await scenario.dhtSync([alice!, bob!, dave!, carol!], 'resource_mesh')
      const seen = { alice: chainAsSeenBy(carol!, alice!), dave: chainAsSeenBy(carol!, dave!) }
      const viewOf = (slot: number) => ({
        alice: slotView(seen.alice, slot),
        dave: slotView(seen.dave, slot),
      })

      // In the slot Alice asked and in the slot Dave asked, Carol sees the same: both wrote one withheld
      // leaves entry and one batch citing it, after the slot ended, with the same figures and no count.
      const whenAliceAsked = viewOf(aliceSlot!)
      expect(whenAliceAsked).toEqual(viewOf(daveSlot!))
      expect(whenAliceAsked.alice).toEqual(whenAliceAsked.dave)
      expect(whenAliceAsked.alice).toEqual({
        types: ['ServedLeaves', 'ServedBatch'],
        leavesWithheld: true,
        citesItsLeaves: true,
        figures: { totals: { count: 1, tokens_in: 0, tokens_out: 0 }, accepted: 0 },
        window: [0, SLOT_MS * 1000],
        writtenAfterTheSlot: true,
      })

      // And so in every slot between the two, asked in or not: one window each, on the grid.
      const slotUs = SLOT_MS * 1000
      for (let slot = aliceSlot!; slot <= daveSlot!; slot += slotUs) {
        const view = viewOf(slot)
        expect(view.alice, `slot ${slot}`).not.toBeNull()
        expect(view.alice, `slot ${slot}`).toEqual(view.dave)
      }
      // No slot was signed twice, none off the grid, and no more than the slots the askers ran through.
      for (const chain of Object.values(seen)) {
        const windows = chain
          .filter((w) => w.type === 'ServedBatch')
          .map((w) => (w.entry as ServedBatch).opened_at)
        expect(new Set(windows).size).toBe(windows.length)
        for (const opened of windows) expect(opened % slotUs).toBe(0)
        expect(windows.length).toBeLessThanOrEqual(Math.ceil((stopped - started) / SLOT_MS) + 1)
        // Every window's root is its own: a slot with no request looks like one with a request.
        const roots = chain.filter((w) => w.type === 'ServedBatch').map((w) => (w.entry as ServedBatch).root)
        expect(new Set(roots).size).toBe(roots.length)
      }

      // What the askers hold privately: the one request each asked, among windows of cover.
      for (const [player, request] of [
        [alice!, byAlice.request],
        [dave!, byDave.request],
      ] as const) {
        const own = await player.port.callZome('resource_mesh', 'list_own_windows', 0)
        const leaves = own.served.flatMap((w: { leaves: ServedLeaves }) => w.leaves.leaves)
        expect(leaves.filter((l) => l.reason !== COVER_REASON).map((l) => l.request)).toEqual([request])
        expect(leaves.filter((l) => l.reason === COVER_REASON).length).toBeGreaterThan(0)
      }
    })
  })
})
