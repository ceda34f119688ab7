/**
 * The direct wire's pure parts: the request digest (one canonicalisation, the same hash as the request's
 * canonical JSON), the frames of version 2 (a proof carrying its batch among them), a refusal's words on
 * each version (version 1's own, translated by one table), the check that a request is the one offered, and the
 * requester's phases (a runner cannot accept or answer what it was never sent).
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { payloadDigest } from '../../../../host/identity/payload-hash.ts'
import { type DirectRequest, digestRequest } from '../../../../host/requests/direct/direct-request.ts'
import {
  nextPhase,
  OfferFrameSchema,
  offerMismatch,
  PromptFrameSchema,
  RefusalSchema,
  type RequesterPhase,
  type RunnerFrame,
  RunnerFrameSchema,
  refusedFrame,
  runnerFrame,
  V1_REFUSALS,
  WireOrderError,
  wireVersion,
} from '../../../../host/requests/direct/direct-wire.ts'
import { canonicalJson } from '../../../../zomes-bindings/canonical-json.ts'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
const REQUESTER = 'uhCAkrequester'
const request = (input: Record<string, unknown>): DirectRequest => ({
  kind: 'infer.generate',
  model: 'tiny',
  input,
  nonce: '0'.repeat(32),
})

describe('the request digest', () => {
  it.each([
    ['a prompt', { prompt: 'hi' }],
    [
      'keys out of order, nested',
      { z: 1, messages: [{ role: 'user', content: 'é ✓ 𝄞', b: { y: 2, a: null } }] },
    ],
    ['an empty input', {}],
  ])('names %s as the canonical JSON of the request does, and sizes its input', (_name, input) => {
    const r = request(input)
    const digest = digestRequest(r, REQUESTER)
    expect(digest.request).toBe(sha256(canonicalJson({ ...r, requester: REQUESTER })))
    const { hash, bytes } = payloadDigest(input)
    expect(digest).toMatchObject({ input_hash: hash, input_bytes: bytes })
  })
})

describe('the offer', () => {
  const r = request({ prompt: 'the secret prompt' })
  const digest = digestRequest(r, REQUESTER)
  const offer = { kind: r.kind, model: r.model, ...digest }

  it('carries no input, and a later release may add fields this one ignores', () => {
    const frame = OfferFrameSchema.parse({ offer: { ...offer, max_tokens: 64 }, queue: false })
    expect(frame.offer).toEqual(offer)
    expect(JSON.stringify(frame)).not.toContain('secret')
    expect(OfferFrameSchema.safeParse({ request: r, queue: false }).success).toBe(false)
    expect(PromptFrameSchema.safeParse({ request: r }).success).toBe(true)
  })

  it.each([
    ['the request offered', r, REQUESTER, null],
    [
      'another prompt',
      request({ prompt: 'the secret prompt!' }),
      REQUESTER,
      'its input is not the one offered',
    ],
    ['another model', { ...r, model: 'huge' }, REQUESTER, 'its kind or model is not the one offered'],
    ['another nonce', { ...r, nonce: '1'.repeat(32) }, REQUESTER, 'its hash is not the one offered'],
    ['another requester', r, 'uhCAkother', 'its hash is not the one offered'],
  ])('takes %s only when it is the one offered', (_name, sent, requester, why) => {
    expect(offerMismatch(offer, sent.kind, sent.model, digestRequest(sent, requester))).toBe(why)
  })
})

describe('the requester’s phases', () => {
  it('reads the version its runner chose', () => {
    expect(wireVersion('/ripple/abc/direct-infer/2.0.0')).toBe(2)
    expect(wireVersion('/ripple/abc/direct-infer/1.0.0')).toBe(1)
  })

  it.each<[RequesterPhase, RunnerFrame['type'], RequesterPhase, boolean]>([
    ['offered', 'ready', 'sent', true],
    ['offered', 'refused', 'offered', false],
    ['offered', 'failed', 'offered', false],
    ['sent', 'accepted', 'accepted', false],
    // Version 1 never required `accepted` before the answer.
    ['sent', 'token', 'accepted', false],
    ['sent', 'done', 'accepted', false],
    ['sent', 'refused', 'sent', false],
    // The engine found the request at fault before its first token.
    ['accepted', 'refused', 'accepted', false],
    ['accepted', 'reasoning', 'accepted', false],
  ])('from %s, on %s: %s (request sent now: %s)', (phase, type, next, send) => {
    expect(nextPhase(phase, type)).toEqual({ phase: next, send })
  })

  it.each<[RequesterPhase, RunnerFrame['type']]>([
    ['offered', 'accepted'],
    ['offered', 'token'],
    ['offered', 'done'],
    ['offered', 'proof'],
    ['sent', 'ready'],
    ['accepted', 'ready'],
    ['sent', 'proof'],
  ])('refuses, from %s, a %s frame out of turn', (phase, type) => {
    expect(() => nextPhase(phase, type)).toThrow(WireOrderError)
    expect(() => nextPhase(phase, type)).toThrow(`the runner sent "${type}" out of turn (${phase})`)
  })

  it('parses ready as a runner frame', () => {
    expect(RunnerFrameSchema.parse({ type: 'ready' })).toEqual({ type: 'ready' })
    expect(RunnerFrameSchema.safeParse({ type: 'ready', request: {} }).success).toBe(false)
  })

  it('parses a proof with its batch as ops, or without one (1.0.0, or a window not signed)', () => {
    const none = { type: 'proof', proof: null, root: null }
    const batch = [
      ['AAEC', 'AwQF', null],
      ['BgcI', 'CQoL', 'DA0O'],
    ]
    expect(RunnerFrameSchema.parse(none)).toEqual(none)
    expect(RunnerFrameSchema.parse({ ...none, batch })).toEqual({ ...none, batch })
    for (const bad of [[], [['not base64url!', 'AA', null]], Array(9).fill(['AA', 'AA', null])])
      expect(RunnerFrameSchema.safeParse({ ...none, batch: bad }).success).toBe(false)
  })
})

describe("a refusal's words on each version", () => {
  const refusal = { message: 'no', retry_after_s: 30 }

  it('has one word of version 1 for each the run says, and none for any other', () => {
    expect(Object.values(V1_REFUSALS).sort()).toEqual([...RefusalSchema.shape.why.options].sort())
  })

  it.each(Object.entries(V1_REFUSALS))(
    'writes and reads %s on version 1, without a retry time',
    (word, why) => {
      const frame = refusedFrame(1, { why, ...refusal })
      expect(frame).toEqual({ type: 'refused', why: word, message: 'no' })
      expect(runnerFrame(1, frame)).toEqual({ type: 'refused', why, message: 'no' })
    },
  )

  it('says the run’s own words on version 2, with the retry time, and reads no word of the other', () => {
    const frame = refusedFrame(2, { why: 'busy/limited', ...refusal })
    expect(frame).toEqual({ type: 'refused', why: 'busy/limited', ...refusal })
    expect(runnerFrame(2, frame)).toEqual(frame)
    expect(() => runnerFrame(2, { type: 'refused', why: 'policy', message: 'no' })).toThrow()
    expect(() => runnerFrame(1, frame)).toThrow()
  })
})
