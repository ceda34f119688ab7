/**
 * What a requester records of a request from what its runner sent once its window was signed, and how
 * any peer checks a leaf against the runner's public batch: a table of the honest case and each way a
 * runner's leaf, path or batch can be wrong.
 */
import { describe, expect, it } from 'vitest'
import { checkLeafProof, type ServedFacts, servedLeaf } from '../../../../host/requests/direct/served-leaf.ts'
import {
  type AnswerBatch,
  type AnswerLeaf,
  answerLeafBytes,
  type EntryRecord,
  merklePaths,
  merkleRoot,
} from '../../../../zomes-bindings/index.ts'
import { AGENT } from '../../api/fixtures.ts'

const RUNNER = AGENT
const REQUESTER = AGENT.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))
const BATCH = `uhCkk${'A'.repeat(48)}`
const hex = (c: string) => c.repeat(64)

function leafOf(n: number, over: Partial<AnswerLeaf> = {}): AnswerLeaf {
  return {
    request: hex(String(n % 10)),
    requester: REQUESTER,
    model: 'tiny',
    model_file_hash: hex('f'),
    status: 'ok',
    output_hash: hex('a'),
    tokens_in: 10 + n,
    tokens_out: 5,
    started_at: 1_000_000,
    finished_at: 2_000_000,
    ...over,
  }
}

/** A runner's window of five answers, signed: the third is this request's. */
const leaves = [0, 1, 2, 3, 4].map((n) => leafOf(n))
const bytes = leaves.map(answerLeafBytes)
const root = merkleRoot(bytes)
const paths = merklePaths(bytes)
const proof = { batch: BATCH, leaf: leaves[2]!, index: 2, count: 5, path: paths[2]! }
const batch: EntryRecord<AnswerBatch> = {
  action_hash: BATCH,
  author: RUNNER,
  timestamp: 3_000_000,
  entry: {
    root,
    leaves: `uhCEk${'A'.repeat(48)}`,
    totals: { count: 5, tokens_in: 60, tokens_out: 25 },
    opened_at: 1,
    closed_at: 2,
  },
}
const facts: ServedFacts = {
  request: hex('2'),
  requester: REQUESTER,
  runner: RUNNER,
  model: 'tiny',
  outputHash: hex('a'),
  signed: { proof, root },
}

describe('servedLeaf', () => {
  const cases: [string, Partial<ServedFacts>, { accepted: boolean; proof: boolean; reason: RegExp }][] = [
    [
      'the runner signed this request and the output served',
      {},
      { accepted: true, proof: true, reason: /^$/ },
    ],
    [
      'nothing came (the runner died before its window was signed)',
      { signed: null },
      { accepted: false, proof: false, reason: /signed no record/ },
    ],
    [
      'the leaf is for another request',
      { request: hex('3') },
      { accepted: false, proof: false, reason: /another request/ },
    ],
    [
      'the leaf is for another requester',
      { requester: RUNNER },
      { accepted: false, proof: false, reason: /another request/ },
    ],
    [
      'the leaf is for another model',
      { model: 'other' },
      { accepted: false, proof: false, reason: /another request/ },
    ],
    [
      'the path leads to another root',
      { signed: { proof, root: hex('0') } },
      { accepted: false, proof: false, reason: /does not lead/ },
    ],
    [
      'the path is for another index',
      { signed: { proof: { ...proof, index: 1 }, root } },
      { accepted: false, proof: false, reason: /does not lead/ },
    ],
    [
      'the runner signed another output than it served',
      { outputHash: hex('b') },
      { accepted: false, proof: true, reason: /another output/ },
    ],
  ]
  for (const [name, change, want] of cases) {
    it(name, () => {
      const leaf = servedLeaf({ ...facts, ...change })
      expect(leaf.accepted).toBe(want.accepted)
      expect(leaf.proof !== null).toBe(want.proof)
      expect(leaf.reason).toMatch(want.reason)
    })
  }

  it('an answer the runner signed as failed is not accepted, its proof kept', () => {
    const failed = leaves.map((l, i) => (i === 2 ? { ...l, status: 'error' as const } : l))
    const b = failed.map(answerLeafBytes)
    const signed = { proof: { ...proof, leaf: failed[2]!, path: merklePaths(b)[2]! }, root: merkleRoot(b) }
    expect(servedLeaf({ ...facts, signed })).toMatchObject({
      accepted: false,
      reason: 'the runner signed it as failed',
    })
  })
})

describe('checkLeafProof', () => {
  it('checks a leaf against the batch it cites, by its runner', () => {
    expect(checkLeafProof(proof, batch, RUNNER)).toMatchObject({
      valid: true,
      reason: expect.stringMatching(/leaf 3 of 5/),
    })
  })
  const cases: [string, Parameters<typeof checkLeafProof>, RegExp][] = [
    ['an unknown batch', [proof, null], /not known here/],
    ['another batch', [{ ...proof, batch: `uhCkk${'B'.repeat(48)}` }, batch], /cites batch/],
    ['another runner', [proof, batch, REQUESTER], /not the runner/],
    // A path proves a leaf in trees of several sizes: the batch's count fixes the one.
    ['another tree size', [{ ...proof, count: 6 }, batch], /holds 5 leaves/],
    ['a changed leaf', [{ ...proof, leaf: { ...proof.leaf, tokens_out: 500 } }, batch], /does not lead/],
    ['a changed path', [{ ...proof, path: [hex('0'), ...proof.path.slice(1)] }, batch], /does not lead/],
  ]
  for (const [name, args, reason] of cases) {
    it(`refuses ${name}`, () => {
      const check = checkLeafProof(...args)
      expect(check.valid).toBe(false)
      expect(check.reason).toMatch(reason)
    })
  }
})
