/**
 * The batched record of requests routed straight to a runner, on in-process peers of a private mesh as
 * a user gets it (its key, an admin, the others joined by invite; embedded conductors with their rules
 * wasm, real libp2p on loopback, the real direct protocol behind the members-only gate). The runner's
 * worker is a stand-in that echoes its prompt: what is tested here is the record, not the generation
 * (the engine's path is tests/e2e/direct-route.test.ts). Two hundred requests at once share a few
 * signatures; a bystander holds their public batches, not one leaf and no prompt or answer, and of a
 * window of one request only counts on a grid all peers share (no tokens, no request time); a
 * runner that lies (serving one output and signing another, or giving a root its batch does not
 * have) is on record as not accepted, by a record every peer's rules take; so is one whose proof cites
 * a batch it never publishes, alone, while an honest runner's answer in the same window is signed at once.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { waitForAction } from '../../host/conductor/embedded/replication/wait-for-action.ts'
import { decodeHashB64, encodeHashB64, holoHashFrom32 } from '../../host/identity/hash.ts'
import { payloadHash } from '../../host/identity/payload-hash.ts'
import { libp2pAgentPort } from '../../host/node/agent-port.ts'
import { requestHash } from '../../host/requests/direct/direct-request.ts'
import { DIRECT_PROTOCOL_V1, jsonFrames, RequestFrameSchema } from '../../host/requests/direct/direct-wire.ts'
import { checkLeafProof } from '../../host/requests/direct/served-leaf.ts'
import { type AnswerLeaf, answerLeavesOf } from '../../zomes-bindings/index.ts'
import { ask, directService, echo, FILE, MODEL, privateMesh } from './direct-mesh.ts'
import { type Player, runScenario } from './harness.ts'

/** Every file under a player's data dir, read whole (the SQLite store and its WAL among them). */
async function filesOf(player: Player): Promise<Buffer[]> {
  const files: Buffer[] = []
  for (const entry of await readdir(player.dataDir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      files.push(await readFile(join(entry.parentPath, entry.name)).catch(() => Buffer.alloc(0)))
  }
  return files
}

const chainLength = (player: Player) =>
  (player.conductor.store.chainHead(
    player.conductor.cell('resource_mesh').dnaHash,
    decodeHashB64(player.agentPubKey, 'agent'),
  )?.seq ?? -1) + 1

describe('the record of direct requests', { timeout: 120_000 }, () => {
  it('two hundred requests at once: a few signatures, and a bystander holds no leaf and no content', async () => {
    await runScenario(async (scenario) => {
      const [alice, bob, carol] = await privateMesh(scenario)
      const asker = directService(alice!, bob!, null)
      const runner = directService(bob!, null, echo)
      await runner.start()
      const before = chainLength(bob!)
      const prompts = Array.from({ length: 200 }, (_, i) => `secret prompt number ${i}`)
      const answers = await Promise.all(prompts.map((p) => ask(asker, p)))
      expect(answers.map((a) => (a.output as { text: string }).text)).toEqual(
        prompts.map((p) => `echo: ${p}`),
      )
      expect(await Promise.all(answers.map((a) => a.recorded))).not.toContain(null)

      // One signature per window of at most 64 answers (two actions: the private leaves, the batch).
      const signed = chainLength(bob!) - before
      expect(signed).toBeGreaterThanOrEqual(2 * Math.ceil(200 / 64))
      expect(signed).toBeLessThan(40)
      const batches = new Set<string>()
      for (const answer of answers) {
        const record = await asker.served(answer.request)
        expect(record?.served?.leaf).toMatchObject({ request: answer.request, accepted: true })
        expect(record?.checks.served?.valid).toBe(true)
        batches.add(record?.served?.leaf.proof?.batch ?? '')
      }
      expect(batches.size).toBe(signed / 2)

      // Carol took no part: she holds the public batches (their roots and totals) but no leaves ...
      await scenario.dhtSync([alice!, bob!, carol!], 'resource_mesh')
      const bystander = directService(carol!, null, null)
      for (const hash of batches) {
        const batch = await carol!.port.callZome('resource_mesh', 'get_answer_batch', hash)
        expect(batch?.author).toBe(bob!.agentPubKey)
        const leaves = decodeHashB64(batch!.entry.leaves, 'entry')
        expect(carol!.conductor.store.getEntry(leaves)).toBeNull()
        expect(bob!.conductor.store.getEntry(leaves)).not.toBeNull()
      }
      // ... no record of any request, and no prompt or answer in any file; nor does anyone else keep them.
      for (const answer of answers.slice(0, 20)) expect(await bystander.served(answer.request)).toBeNull()
      for (const player of [carol!, alice!, bob!])
        for (const file of await filesOf(player)) expect(file.includes('secret prompt number')).toBe(false)
      await runner.stop()
      await asker.stop()
    })
  })

  it("a bystander's view of a one-request window: counts on a shared grid, no tokens, no request time", async () => {
    await runScenario(async (scenario) => {
      const [alice, bob, carol] = await privateMesh(scenario)
      const asker = directService(alice!, bob!, null)
      const runner = directService(bob!, null, echo)
      await runner.start()
      const answer = await ask(asker, 'the only request of its window')
      expect(await answer.recorded).not.toBeNull()
      const record = await asker.served(answer.request)
      const served = record!.served!
      // The parties' own proofs still verify, and their private leaves keep the tokens (3 in, 2 out).
      expect(record?.checks.served?.valid).toBe(true)
      expect(served.leaf.proof?.leaf).toMatchObject({ tokens_in: 3, tokens_out: 2 })

      await scenario.dhtSync([alice!, bob!, carol!], 'resource_mesh')
      const runnerBatch = await carol!.port.callZome(
        'resource_mesh',
        'get_answer_batch',
        served.leaf.proof!.batch,
      )
      const carolHolds = (hash: string) => carol!.conductor.store.getAction(decodeHashB64(hash, 'action'))
      expect(carolHolds(served.batch.action_hash)).not.toBeNull()
      // What Carol holds of both parties: a count and the slot of a 1 s grid every peer shares, not a
      // sum of tokens and not the request's time; the same figures as any other one-request window's.
      const SLOT_US = 1_000_000
      for (const { totals, opened_at, closed_at } of [runnerBatch!.entry, served.batch.entry]) {
        expect(totals).toEqual({ count: 1, tokens_in: 0, tokens_out: 0 })
        expect([opened_at % SLOT_US, closed_at - opened_at]).toEqual([0, SLOT_US])
      }
      // Shown its leaf, anyone holding the runner's public batch checks it, Carol included.
      expect(checkLeafProof(served.leaf.proof!, runnerBatch, bob!.agentPubKey).valid).toBe(true)
      await runner.stop()
      await asker.stop()
    })
  })

  it('a runner that serves one output and signs another, or gives a false root, is on record as not accepted', async () => {
    await runScenario(async (scenario) => {
      const [alice, dave, carol] = await privateMesh(scenario)
      const asker = directService(alice!, dave!, null)
      // Dave speaks the direct protocol himself, and lies in the way each request asks him to.
      await libp2pAgentPort(dave!.node).handle(DIRECT_PROTOCOL_V1, async (stream, requester) => {
        const frames = jsonFrames(stream)
        const { request } = RequestFrameSchema.parse(await frames.read())
        const lie = request.input.prompt as 'another output' | 'false root'
        await frames.write({ type: 'accepted' })
        await frames.write({ type: 'done', output: { text: 'what was served' } })
        const now = Date.now() * 1000
        const leafOf = (output: unknown, hash = requestHash(request, requester)): AnswerLeaf => ({
          request: hash,
          requester,
          model: MODEL,
          model_file_hash: FILE,
          status: 'ok',
          output_hash: payloadHash(output),
          tokens_in: 3,
          tokens_out: 2,
          started_at: now,
          finished_at: now,
        })
        // 'another output': a true proof of a leaf signing what was not served. 'false root': the leaf of
        // what was served, proven against a root of its own, while the batch signs another request.
        const leaf = leafOf(
          lie === 'another output' ? { text: 'what was signed' } : { text: 'what was served' },
        )
        const signed = lie === 'another output' ? leaf : leafOf({ text: 'x' }, 'b'.repeat(64))
        const window = answerLeavesOf([signed])
        const ref = await dave!.port.callZome('resource_mesh', 'post_answer_batch', {
          leaves: window,
          opened_at: now,
          closed_at: now,
        })
        const proof = { batch: ref.batch, leaf, index: 0, count: 1, path: [] }
        await frames.write({ type: 'proof', proof, root: answerLeavesOf([leaf]).root })
        await stream.close()
      })

      const other = await ask(asker, 'another output')
      const falseRoot = await ask(asker, 'false root')
      expect(other.output).toEqual({ text: 'what was served' })
      const recorded = [await other.recorded, await falseRoot.recorded]
      expect(recorded).not.toContain(null)

      const kept = await asker.served(other.request)
      expect(kept?.served?.leaf).toMatchObject({
        accepted: false,
        reason: 'the runner signed another output than the one it served',
      })
      // The runner's signature on the other output stays on record: the proof is valid, the output is not.
      expect(kept?.checks.served?.valid).toBe(true)
      expect(kept?.served?.leaf.proof?.leaf.output_hash).not.toBe(kept?.served?.leaf.output_hash)

      const refused = await asker.served(falseRoot.request)
      expect(refused?.served?.leaf).toMatchObject({ accepted: false, proof: null })
      expect(refused?.served?.leaf.reason).toMatch(/the rules refused the runner's proof: .*proof_invalid/)

      // Alice's records are valid on every peer: Carol's rules took them, and hold nothing against her.
      for (const hash of recorded)
        expect(
          await waitForAction(
            { store: carol!.conductor.store, replication: carol!.replication },
            hash!,
            15_000,
          ),
        ).toBe(true)
      expect(carol!.conductor.store.listWarrants()).toEqual([])
      await asker.stop()
    })
  })

  it('a runner citing a batch it never publishes loses only its own leaf: the honest one is signed at once', async () => {
    await runScenario(async (scenario) => {
      const [alice, bob, carol] = await privateMesh(scenario)
      let target = bob!
      const asker = directService(alice!, () => target, null, 3_000)
      const honestRunner = directService(bob!, null, echo)
      await honestRunner.start()
      // Carol proves her leaf against a batch she never signs.
      const missing = encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(7), 'action'))
      await libp2pAgentPort(carol!.node).handle(DIRECT_PROTOCOL_V1, async (stream, requester) => {
        const frames = jsonFrames(stream)
        const { request } = RequestFrameSchema.parse(await frames.read())
        const output = { text: 'an answer' }
        await frames.write({ type: 'accepted' })
        await frames.write({ type: 'done', output })
        const now = Date.now() * 1000
        const leaf: AnswerLeaf = {
          request: requestHash(request, requester),
          requester,
          model: MODEL,
          model_file_hash: FILE,
          status: 'ok',
          output_hash: payloadHash(output),
          tokens_in: 3,
          tokens_out: 2,
          started_at: now,
          finished_at: now,
        }
        const proof = { batch: missing, leaf, index: 0, count: 1, path: [] }
        await frames.write({ type: 'proof', proof, root: answerLeavesOf([leaf]).root })
        await stream.close()
      })

      target = carol!
      const lied = await ask(asker, 'to the liar')
      target = bob!
      const honest = await ask(asker, 'to the honest one')
      const answeredAt = Date.now()
      expect(await honest.recorded).not.toBeNull()
      expect(Date.now() - answeredAt).toBeLessThan(3_000)
      const kept = await asker.served(honest.request)
      expect(kept?.served?.leaf).toMatchObject({ runner: bob!.agentPubKey, accepted: true })
      expect(kept?.checks.served?.valid).toBe(true)

      expect(await lied.recorded).not.toBeNull()
      const refused = await asker.served(lied.request)
      expect(refused?.served?.leaf).toMatchObject({
        runner: carol!.agentPubKey,
        accepted: false,
        proof: null,
        reason: `runner ${carol!.agentPubKey}'s batch ${missing} never arrived within 3 s`,
      })
      expect(asker.inference.stats()).toMatchObject({ recorded: 2, unrecorded: 0 })
      await honestRunner.stop()
      await asker.stop()
    })
  })
})
