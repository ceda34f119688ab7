/**
 * A runner's public batch travels beside its proof (direct-infer/2.0.0) and its requester verifies and
 * stores it at once: the record is complete with the runner's gossip cut, the same ops arriving again
 * are duplicates, and a forged batch on a proof frame is refused, costs that runner's leaf its proof and
 * warrants the runner that carried it, not the agent it claims to be, nor the requester. On in-process
 * peers of a private mesh (embedded conductors with their rules wasm, real libp2p on loopback).
 */
import { describe, expect, it } from 'vitest'
import { SYNC_PROTOCOL } from '../../host/conductor/embedded/replication/anti-entropy.ts'
import { embeddedOpCarrier } from '../../host/conductor/embedded/replication/index.ts'
import { waitForAction } from '../../host/conductor/embedded/replication/wait-for-action.ts'
import { decodeMsgpack, encodeCanonical } from '../../host/identity/canonical.ts'
import { decodeHashB64 } from '../../host/identity/hash.ts'
import { payloadHash } from '../../host/identity/payload-hash.ts'
import { libp2pAgentPort } from '../../host/node/agent-port.ts'
import { requestHash } from '../../host/requests/direct/direct-request.ts'
import {
  DIRECT_PROTOCOL_V2,
  jsonFrames,
  OfferFrameSchema,
  PromptFrameSchema,
} from '../../host/requests/direct/direct-wire.ts'
import { type AnswerLeaf, answerLeavesOf, DNA_NAMES } from '../../zomes-bindings/index.ts'
import { ask, directService, echo, FILE, MODEL, privateMesh } from './direct-mesh.ts'
import { type Player, runScenario } from './harness.ts'

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')
const holds = (player: Player, hash: string, timeoutMs = 15_000) =>
  waitForAction({ store: player.conductor.store, replication: player.replication }, hash, timeoutMs)

/** `victim`'s action `hash` as `holder` stores it, a microsecond later: its signature no longer fits. */
function forgedOp(holder: Player, hash: string): [string, string, string | null] {
  const held = holder.conductor.store.getAction(decodeHashB64(hash, 'action'))!
  const action = decodeMsgpack(held.bytes) as { timestamp: number }
  const entry = held.entryHash && holder.conductor.store.getEntry(held.entryHash)
  const bytes = encodeCanonical({ ...action, timestamp: action.timestamp + 1 })
  return [base64(bytes), base64(held.signature), entry ? base64(entry.bytes) : null]
}

describe('a runner’s batch carried on its proof frame', { timeout: 120_000 }, () => {
  it('completes the requester’s record with the runner’s gossip cut, and comes again harmlessly', async () => {
    await runScenario(async (scenario) => {
      // Alice never catches up on her own (a long anti-entropy period): Bob's batches reach her on his
      // proof frames or not at all, and her record waits for nothing (1 ms).
      const [alice, bob, carol] = await privateMesh(scenario, [{ syncIntervalMs: 600_000 }])
      for (const dna of DNA_NAMES) await scenario.dhtSync([alice!, bob!, carol!], dna)
      const asker = directService(alice!, bob!, null, 1)
      const runner = directService(bob!, null, echo)
      await runner.start()
      const pubsub = bob!.node.pubsub
      const publish = pubsub.publish.bind(pubsub)
      pubsub.publish = async (channel, data) => (channel === 'ops' ? 0 : publish(channel, data))
      // Nor does she catch up: an exchange a connection or a subscription seen again starts may come
      // between Bob's commit and his proof frame (it did in CI), and would fetch the batch first.
      const rpc = alice!.node.rpc
      const request = rpc.request.bind(rpc)
      rpc.request = (async (peer, protocol, ...rest) => {
        if (protocol === SYNC_PROTOCOL) throw new Error('no catch-up while Bob carries his batches')
        return request(peer, protocol, ...rest)
      }) as typeof rpc.request
      const before = alice!.replication.stats

      const batches: string[] = []
      for (const prompt of ['one', 'two']) {
        const answer = await ask(asker, prompt)
        expect(await answer.recorded).not.toBeNull()
        const record = await asker.served(answer.request)
        expect(record?.served?.leaf).toMatchObject({ runner: bob!.agentPubKey, accepted: true, reason: '' })
        expect(record?.checks.served?.valid).toBe(true)
        batches.push(record!.served!.leaf.proof!.batch)
      }
      // Nothing of Bob's came by gossip or by catch-up.
      expect(alice!.replication.stats).toMatchObject({ gossiped: before.gossiped, fetched: before.fetched })

      // The same batch carried again, then by gossip and catch-up to everyone: duplicates, no warrant.
      const ops = embeddedOpCarrier(bob!.conductor, bob!.replication).carry('resource_mesh', batches[1]!, 1)!
      const again = embeddedOpCarrier(alice!.conductor, alice!.replication)
      expect(again.ingest('resource_mesh', ops, bob!.agentPubKey)).toBe('held')
      expect(alice!.replication.stats.duplicates).toBe(before.duplicates + ops.length)
      pubsub.publish = publish
      rpc.request = request
      await scenario.dhtSync([alice!, bob!, carol!], 'resource_mesh')
      for (const player of [alice!, bob!, carol!]) expect(player.replication.listWarrants()).toEqual([])
      await runner.stop()
      await asker.stop()
    })
  })

  it('refuses a forged batch on a proof frame, and blames the runner that carried it only', async () => {
    await runScenario(async (scenario) => {
      const [alice, bob, dave] = await privateMesh(scenario)
      let target = bob!
      const asker = directService(alice!, () => target, null)
      const honest = directService(bob!, null, echo)
      await honest.start()
      const first = await ask(asker, 'to Bob')
      const bobBatch = (await asker.served(first.request))!.served!.leaf.proof!.batch
      expect(await holds(dave!, bobBatch)).toBe(true)

      // Dave answers truly and signs his batch, but carries beside his proof one of Bob's, altered.
      await libp2pAgentPort(dave!.node).handle(DIRECT_PROTOCOL_V2, async (stream, requester) => {
        const frames = jsonFrames(stream)
        OfferFrameSchema.parse(await frames.read())
        await frames.write({ type: 'ready' })
        const { request } = PromptFrameSchema.parse(await frames.read())
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
        const window = answerLeavesOf([leaf])
        const ref = await dave!.port.callZome('resource_mesh', 'post_answer_batch', {
          leaves: window,
          opened_at: now,
          closed_at: now,
        })
        const proof = { batch: ref.batch, leaf, index: 0, count: 1, path: [] }
        await frames.write({ type: 'proof', proof, root: window.root, batch: [forgedOp(dave!, bobBatch)] })
        await stream.close()
      })

      target = dave!
      const lied = await ask(asker, 'to Dave')
      expect(lied.output).toEqual({ text: 'an answer' })
      expect(await lied.recorded).not.toBeNull()
      const refused = await asker.served(lied.request)
      expect(refused?.served?.leaf).toMatchObject({ runner: dave!.agentPubKey, accepted: false, proof: null })
      expect(refused?.served?.leaf.reason).toContain('carried with its proof, is invalid')

      // Dave delivered a signature that is not Bob's: Dave is warranted, Bob is not, and Bob still serves.
      expect(alice!.replication.listWarrants()).toEqual([
        expect.objectContaining({ agent: dave!.agentPubKey, rule: 'sys.signature' }),
      ])
      target = bob!
      const next = await ask(asker, 'to Bob again')
      expect(await next.recorded).not.toBeNull()
      expect((await asker.served(next.request))?.served?.leaf).toMatchObject({ accepted: true })
      // Alice's records are valid on Bob's rules, which hold nothing against her.
      for (const answer of [first, lied, next]) expect(await holds(bob!, (await answer.recorded)!)).toBe(true)
      expect(bob!.replication.listWarrants()).toEqual([])
      await honest.stop()
      await asker.stop()
    })
  })
})
