/**
 * A lying leaf costs its requester no extra seal (issue 55, point 11): each leaf is checked against the
 * runner's batch it cites once that batch is held here, as the rules will check it, and a proof that
 * does not hold is dropped then; the window is signed once, however many runners lied in it. Over a
 * fake conductor whose rules, as the real ones, refuse a window for the first leaf whose proof fails.
 */
import { describe, expect, it } from 'vitest'
import { encodeHashB64, holoHashFrom32 } from '../../../../host/identity/hash.ts'
import { payloadHash } from '../../../../host/identity/payload-hash.ts'
import type { ConductorPort } from '../../../../host/interface/conductor-port.ts'
import { InvalidEntryError } from '../../../../host/interface/zome-refusal.ts'
import { silentLogger } from '../../../../host/log/logger.ts'
import { newDirectRequest, requestHash } from '../../../../host/requests/direct/direct-request.ts'
import { checkLeafProof } from '../../../../host/requests/direct/served-leaf.ts'
import { ServedRecords } from '../../../../host/requests/direct/served-records.ts'
import {
  type AnswerBatch,
  type AnswerLeaf,
  answerLeavesOf,
  type EntryRecord,
  type ServedLeaves,
} from '../../../../zomes-bindings/index.ts'

const hash = (kind: 'agent' | 'action', n: number) =>
  encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(n), kind))
const ME = hash('agent', 1)
const OUTPUT = { text: 'an answer' }

/** A runner's one-leaf batch `n` for `request`: its root, or (a liar's) the root of another leaf. */
function runnerBatch(n: number, request: string, lies: boolean) {
  const runner = hash('agent', 10 + n)
  const leaf: AnswerLeaf = {
    request,
    requester: ME,
    model: 'tiny',
    model_file_hash: null,
    status: 'ok',
    output_hash: payloadHash(OUTPUT),
    tokens_in: 1,
    tokens_out: 1,
    started_at: 1,
    finished_at: 2,
  }
  const signedRoot = answerLeavesOf([lies ? { ...leaf, tokens_out: 999 } : leaf]).root
  const batch = hash('action', 10 + n)
  const record: EntryRecord<AnswerBatch> = {
    action_hash: batch,
    author: runner,
    timestamp: 1,
    entry: {
      root: signedRoot,
      leaves: hash('action', 200 + n),
      totals: { count: 1, tokens_in: 0, tokens_out: 0 },
      opened_at: 0,
      closed_at: 1,
    } as AnswerBatch,
  }
  // What the runner sent: its leaf, and the root it claims (a liar's own leaf hashes to another).
  const carried = { proof: { batch, leaf, index: 0, count: 1, path: [] }, root: answerLeavesOf([leaf]).root }
  return { runner, batch, record, carried }
}

function requesterOver(batches: Map<string, EntryRecord<AnswerBatch>>) {
  const seals: ServedLeaves[] = []
  const callZome = async (_dna: string, fn: string, payload: unknown) => {
    if (fn === 'get_answer_batch') return batches.get(payload as string) ?? null
    if (fn !== 'record_served_batch') throw new Error(`unexpected ${fn}`)
    const { leaves } = payload as { leaves: ServedLeaves }
    seals.push(leaves)
    const at = leaves.leaves.findIndex(
      (l) => l.proof !== null && !checkLeafProof(l.proof, batches.get(l.proof.batch) ?? null, l.runner).valid,
    )
    if (at >= 0) throw new InvalidEntryError('proof_invalid', 'the path does not lead to the root', at)
    return { batch: hash('action', 100 + seals.length) }
  }
  const conductor = { agentPubKey: ME, callZome } as unknown as Pick<
    ConductorPort,
    'agentPubKey' | 'callZome'
  >
  const records = new ServedRecords({
    conductor,
    waitForAction: async (h) => batches.has(h),
    batchWindowMs: 30,
    logger: silentLogger(),
  })
  return { records, seals }
}

describe('a window with lying runners in it', () => {
  it.each([
    { liars: 0, honest: 3 },
    { liars: 1, honest: 2 },
    { liars: 4, honest: 1 },
  ])('$liars liar(s) beside $honest honest runner(s): signed once', async ({ liars, honest }) => {
    const batches = new Map<string, EntryRecord<AnswerBatch>>()
    const { records, seals } = requesterOver(batches)
    const asked = Array.from({ length: liars + honest }, (_, n) => {
      const request = newDirectRequest('infer.generate', 'tiny', { prompt: `q${n}` })
      const h = requestHash(request, ME)
      const lies = n < liars
      const runner = runnerBatch(n, h, lies)
      batches.set(runner.batch, runner.record)
      return {
        h,
        lies,
        recorded: records.record(request, h, runner.runner, OUTPUT, Promise.resolve(runner.carried)),
      }
    })
    const refs = await Promise.all(asked.map((a) => a.recorded))
    expect(new Set(refs)).toEqual(new Set([hash('action', 101)]))
    expect(seals).toHaveLength(1)
    const byRequest = new Map(seals[0]!.leaves.map((l) => [l.request, l]))
    for (const a of asked) {
      const leaf = byRequest.get(a.h)
      expect(leaf?.accepted).toBe(!a.lies)
      expect(leaf?.proof === null).toBe(a.lies)
      if (a.lies) expect(leaf?.reason).toMatch(/the rules refused the runner's proof: proof_invalid: /)
    }
  })
})
