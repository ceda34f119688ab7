/**
 * An op whose author's genesis has not arrived yet (issue 57): on a sharded mesh of invites, a joiner's
 * pushed op can reach one of its holders before the joiner's genesis does. The rules would read that as
 * "joined without an invite" and warrant an honest member (seen at 32 real daemons:
 * `served_batch.author_role_unknown`). It is awaited instead: not stored, nobody warranted, nothing asked
 * of holders (geneses reach every peer); once the genesis is held, the same op is taken.
 */
import { describe, expect, it } from 'vitest'
import type { RulesValidator } from '../../../../host/conductor/embedded/validation/validator.ts'
import { encodeHashB64 } from '../../../../host/identity/hash.ts'
import { openAgentKey } from '../../../../host/identity/keystore.ts'
import { signGrant } from '../../../../host/identity/membrane-grant.ts'
import { NOTES_MODIFIERS, notesRules, openNotesCell, type TestCell, tempDir } from '../fixtures/test-cell.ts'
import { ingestOn, opsOf, warrantsOf } from './fixtures/ingest.ts'

/** The notes rules, with the role rule of the real ones: an author with no invite has no role. */
const roleRules: RulesValidator = {
  validate(input) {
    const { progenitor } = input.properties as { progenitor: string }
    if (input.entry_type !== 'MembraneProof' && input.author !== progenitor && input.author_proof == null)
      return { outcome: 'invalid', rule: 'note.author_role_unknown', message: 'it joined without an invite' }
    return notesRules.validate(input)
  },
}

/** A network of invites (its progenitor elsewhere), and a member of it opened in a fresh dir. */
async function invitesNetwork() {
  const key = await openAgentKey(await tempDir())
  const progenitor = encodeHashB64(key.agentPubKey)
  const grant = { issuer: progenitor, role: 'member', network_id: 'test' }
  const modifiers = { ...NOTES_MODIFIERS, properties: { membrane: 'invite', progenitor, network_id: 'test' } }
  const invited = async () =>
    openNotesCell(await tempDir(), {
      validator: roleRules,
      modifiers,
      membraneProof: { grant, signature: signGrant(grant, key) },
    })
  return { modifiers, invited }
}

async function invitedPair(): Promise<[TestCell, TestCell]> {
  const { invited } = await invitesNetwork()
  return [await invited(), await invited()]
}

describe("an op that arrives before its author's genesis", () => {
  it('is awaited, not warranted, and taken once the genesis is held', async () => {
    const [alice, bob] = await invitedPair()
    try {
      await alice.cell.call((hdk) => hdk.create_entry('Note', { text: 'pushed before my genesis' }))
      const ops = opsOf(alice)
      const note = ops.at(-1)!
      // Bob holds alice's note by its basis; her chain (with her genesis) reaches him later.
      const ingest = ingestOn(bob, { place: (_, action) => (action.type === 'Create' ? 'held' : 'chain') })
      const early = ingest.receive({ dnaHash: bob.cell.dnaHash, ops: [note] }, alice.cell.agentPubKey)
      expect(warrantsOf(bob)).toEqual([])
      expect(early.counts.stored).toBe(0)
      expect(early.needs).toEqual([])
      expect([...bob.store.heldActions(bob.cell.dnaHash)]).toEqual([])
      // Her genesis arrives (membership reaches every peer), then the note again (anti-entropy).
      const genesis = ops.filter((op) => op !== note)
      ingest.receive({ dnaHash: bob.cell.dnaHash, ops: genesis }, alice.cell.agentPubKey)
      const again = ingest.receive({ dnaHash: bob.cell.dnaHash, ops: [note] }, alice.cell.agentPubKey)
      expect(again.counts.stored).toBe(1)
      expect(warrantsOf(bob)).toEqual([])
    } finally {
      alice.store.close()
      bob.store.close()
    }
  })

  it('is warranted as before once its author is known to have joined without an invite', async () => {
    const { modifiers, invited } = await invitesNetwork()
    const bob = await invited()
    // Carol's own rules lack the role rule, so she writes; her genesis carries no invite.
    const carol = await openNotesCell(await tempDir(), { modifiers })
    try {
      await carol.cell.call((hdk) => hdk.create_entry('Note', { text: 'no invite' }))
      const ingest = ingestOn(bob, { place: (_, action) => (action.type === 'Create' ? 'held' : 'chain') })
      const ops = opsOf(carol)
      ingest.receive({ dnaHash: bob.cell.dnaHash, ops: ops.slice(0, -1) }, carol.cell.agentPubKey)
      ingest.receive({ dnaHash: bob.cell.dnaHash, ops: ops.slice(-1) }, carol.cell.agentPubKey)
      expect(warrantsOf(bob)).toEqual([[encodeHashB64(carol.cell.agentPubKey), 'note.author_role_unknown']])
    } finally {
      carol.store.close()
      bob.store.close()
    }
  })
})
