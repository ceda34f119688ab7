/**
 * The direct protocol's frames. Version 2 (`direct-infer/2.0.0`) asks before it tells: the requester
 * offers the request without its input (kind, model, its hash, the input's size: what the runner's
 * policies and capacity read); the runner answers `ready`, holding a slot for it, or `refused` (with
 * why, in the words a run's outcome is said in; version 1 in its own), and only on `ready` is the
 * request itself sent. Version 1 (release 0.1.0) sends the request in the first frame. From there both
 * go alike: the runner answers `accepted` (or `refused`), then the run's events as they come
 * (interface/run-event.ts: its reasoning and text, in version 2 also the model's load), then `done`
 * with the output (or `failed`), and last, once its window of answers is signed, the answer's leaf and
 * Merkle proof; in version 2 with the window's public batch beside it (its signed ops, which the
 * requester verifies and stores at once instead of waiting for gossip). Each frame is length-prefixed
 * JSON. A runner serves both versions; a requester asks for the one its runner's release speaks
 * (directProtocolFor).
 */
import type { Stream } from '@libp2p/interface'
import { z } from 'zod'
import { DigestHexSchema, LeafProofSchema, ModelNameSchema } from '../../../zomes-bindings/index.ts'
import { CarriedOpsSchema } from '../../interface/carried-ops.ts'
import type { Failure } from '../../interface/failure-kind.ts'
import { parseWireJson } from '../../interface/nesting-depth.ts'
import { PROTOCOLS, type ReleaseStatement } from '../../interface/release.ts'
import {
  DoneEventSchema,
  LoadEventSchema,
  ReasoningEventSchema,
  TokenEventSchema,
  ToolCallEventSchema,
  type WorkerEvent,
} from '../../interface/run-event.ts'
import { framedStream } from '../../net/framed-stream.ts'
import { BandSchema } from '../priority.ts'
import { DirectKindSchema, DirectRequestSchema, type RequestDigest } from './direct-request.ts'

export const DIRECT_PROTOCOL_V1 = 'direct-infer/1.0.0'
export const DIRECT_PROTOCOL_V2 = 'direct-infer/2.0.0'
/** What a runner serves: a requester of release 0.1.0 speaks version 1 only. */
export const DIRECT_PROTOCOLS = [DIRECT_PROTOCOL_V2, DIRECT_PROTOCOL_V1] as const

/**
 * The one version a requester asks `statement`'s peer for (issue 55, point 7): version 1 only of a
 * peer whose hello states a release that speaks no more (0.1.0), else version 2 only, never both. A
 * requester asking for both would send its prompt at once to any member that answers version 1 alone,
 * before that member said yes. A peer not met yet (no statement) is asked for version 2: its hello,
 * said as the stream's connection opens, decides again (DirectInference).
 */
export function directProtocolFor(statement: ReleaseStatement | undefined): string {
  return (statement?.protocols.direct ?? PROTOCOLS.direct) >= 2 ? DIRECT_PROTOCOL_V2 : DIRECT_PROTOCOL_V1
}

/** The version a stream speaks, by the protocol its runner chose (a full id ends with the name). */
export function wireVersion(protocol: string): 1 | 2 {
  return protocol.endsWith(DIRECT_PROTOCOL_V2) ? 2 : 1
}

/**
 * Why a runner turns a request down before it starts, in the words a run's outcome is said in
 * (interface/failure-kind.ts): every slot `busy`; its policies refused it, a limit (`busy/limited`);
 * it cannot serve the model, lacking its file or the memory to load it (`unavailable`); what holds the
 * memory is busy (`unavailable/no_room`); the request is at fault (`invalid`); it failed before its
 * answer began (`failed`). The requester tries the next candidate.
 */
const REFUSALS = [
  'busy',
  'busy/limited',
  'unavailable',
  'unavailable/no_room',
  'invalid',
  'failed',
] as const satisfies readonly Failure[]

/**
 * A runner's refusal, in one form from the error that says it to the requester's reasons: why, in words,
 * and with `invalid` found by the engine the caller's mistake (`code`, `field`: run-errors.ts); with
 * `busy/limited`, in version 2, the seconds until its policies would allow it (a limit that lifts).
 */
export const RefusalSchema = z.object({
  why: z.enum(REFUSALS),
  message: z.string(),
  code: z.string().max(64).optional(),
  field: z.string().max(256).nullable().optional(),
  retry_after_s: z
    .number()
    .int()
    .min(0)
    .max(2 * 86_400)
    .optional(),
})
export type Refusal = z.infer<typeof RefusalSchema>

/**
 * Version 1's word for each refusal. Release 0.1.0 reads and writes no other, so they live here, where
 * a version 1 frame is read or written (runnerFrame, refusedFrame), and nowhere else: the code and
 * version 2 say a refusal in the run's words.
 */
export const V1_REFUSALS = {
  busy: 'busy',
  policy: 'busy/limited',
  no_model: 'unavailable',
  no_room: 'unavailable/no_room',
  invalid: 'invalid',
  failed: 'failed',
} as const satisfies Record<string, Refusal['why']>
type V1Refusal = keyof typeof V1_REFUSALS

const V1_WORDS = Object.fromEntries(Object.entries(V1_REFUSALS).map(([word, why]) => [why, word])) as Record<
  Refusal['why'],
  V1Refusal
>

/** Version 1's first frame: the request, and whether to wait for a slot (every peer was busy). */
export const RequestFrameSchema = z.strictObject({ request: DirectRequestSchema, queue: z.boolean() })

/**
 * Version 2's first frame: the request as its runner's policies and capacity see it, without its input.
 * Not strict: a later release may add what a policy reads, and this one ignores it.
 */
export const OfferSchema = z.object({
  kind: DirectKindSchema,
  model: ModelNameSchema,
  request: z.string().regex(/^[0-9a-f]{64}$/),
  input_hash: z.string().regex(/^[0-9a-f]{64}$/),
  input_bytes: z.number().int().nonnegative(),
})
export type Offer = z.infer<typeof OfferSchema>
/**
 * `whole`: the requester's caller takes the answer whole, so its text need not come as it is made (the
 * runner's engine may make it whole). A runner of an earlier release ignores it and sends the text.
 * `reads`: the run events the requester reads beyond version 2's own (a later release's kinds): a
 * runner sends no other, and one of an earlier release ignores the list.
 * `priority`: the request's band (priority.ts); absent (an earlier release), it is an agent's. A runner
 * of an earlier release ignores it.
 */
export const OfferFrameSchema = z.object({
  offer: OfferSchema,
  queue: z.boolean(),
  whole: z.boolean().optional(),
  reads: z.array(z.string().max(64)).max(64).optional(),
  priority: BandSchema.optional(),
})

/** The run events each version reads (release 0.1.0's version 1 reads no load). */
const VERSION_EVENTS: Record<1 | 2, readonly WorkerEvent['type'][]> = {
  1: ['reasoning', 'token'],
  2: ['load', 'reasoning', 'token'],
}
/** The run events this release reads beyond version 2's, which its requesters list in `reads`. */
export const LATER_EVENTS: readonly WorkerEvent['type'][] = ['tool-call']

/** Whether a requester of `version`, which listed `reads`, reads this event. */
export function readsEvent(version: 1 | 2, reads: readonly string[], type: WorkerEvent['type']): boolean {
  return VERSION_EVENTS[version].includes(type) || (version === 2 && reads.includes(type))
}

/** Version 2's second frame, sent on `ready`: the request offered. */
export const PromptFrameSchema = z.strictObject({ request: DirectRequestSchema })

/** Why a request is not the one offered (the runner's `ready` held for that one); null when it is. */
export function offerMismatch(
  offer: Offer,
  kind: string,
  model: string,
  digest: RequestDigest,
): string | null {
  if (kind !== offer.kind || model !== offer.model) return 'its kind or model is not the one offered'
  if (digest.input_bytes !== offer.input_bytes || digest.input_hash !== offer.input_hash)
    return 'its input is not the one offered'
  if (digest.request !== offer.request) return 'its hash is not the one offered'
  return null
}

export const RunnerFrameSchema = z.discriminatedUnion('type', [
  // Version 2: the offer is taken (a slot held for it); send the request.
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('accepted') }),
  // The refusal as it is; version 1's in its own words (refusedFrame).
  z.strictObject({ type: z.literal('refused'), ...RefusalSchema.shape }),
  // The run's own events (interface/run-event.ts), as they are: `token`, `reasoning` and `done` are
  // version 1's frames too; `load` goes to version 2 only (0.1.0 reads no other), a `tool-call` only
  // to a requester that reads it (readsEvent).
  LoadEventSchema,
  ReasoningEventSchema,
  TokenEventSchema,
  ToolCallEventSchema,
  DoneEventSchema,
  z.strictObject({ type: z.literal('failed'), message: z.string() }),
  // Once the runner's window is signed: the answer's leaf, its path and the root it leads to; in
  // version 2 also the batch the proof cites, as ops (absent when the window could not be signed).
  z.strictObject({
    type: z.literal('proof'),
    proof: LeafProofSchema.nullable(),
    root: DigestHexSchema.nullable(),
    batch: CarriedOpsSchema.optional(),
  }),
])
export type RunnerFrame = z.infer<typeof RunnerFrameSchema>

/** Version 1's refusal: its words, and no retry_after_s (0.1.0's frames are strict). */
const V1RefusedSchema = z
  .strictObject({
    type: z.literal('refused'),
    ...RefusalSchema.omit({ retry_after_s: true }).shape,
    why: z.enum(Object.keys(V1_REFUSALS) as [V1Refusal, ...V1Refusal[]]),
  })
  .transform((frame): RunnerFrame => ({ ...frame, why: V1_REFUSALS[frame.why] }))

/** A runner's frame as a requester reads it off a stream of `version`: a refusal in the run's words. */
export function runnerFrame(version: 1 | 2, value: unknown): RunnerFrame {
  const refused = version === 1 && (value as { type?: unknown } | null)?.type === 'refused'
  return refused ? V1RefusedSchema.parse(value) : RunnerFrameSchema.parse(value)
}

/** A refusal's frame as a runner sends it on a stream of `version`. */
export function refusedFrame(version: 1 | 2, refusal: Refusal): unknown {
  if (version === 2) return { type: 'refused', ...refusal }
  const { why, retry_after_s: _, ...rest } = refusal
  return { type: 'refused', why: V1_WORDS[why], ...rest }
}

/**
 * Where a requester stands on a stream: it `offered` (version 2, awaiting `ready`), `sent` the request,
 * or the runner `accepted` it.
 */
export type RequesterPhase = 'offered' | 'sent' | 'accepted'

/** A runner's frame out of turn (an answer before it was given the request, `ready` twice). */
export class WireOrderError extends Error {
  static override readonly name = 'WireOrderError'
  constructor(phase: RequesterPhase, type: RunnerFrame['type']) {
    super(`the runner sent "${type}" out of turn (${phase})`)
    this.name = 'WireOrderError'
  }
}

/**
 * The requester's phase after a runner's frame of `type`, and whether the request is to be sent now
 * (on `ready`). Throws WireOrderError for a frame out of turn: above all, anything but `ready` or a
 * refusal to an offer, since a runner cannot accept or answer what it was never sent.
 */
export function nextPhase(
  phase: RequesterPhase,
  type: RunnerFrame['type'],
): { phase: RequesterPhase; send: boolean } {
  if (phase === 'offered') {
    if (type === 'ready') return { phase: 'sent', send: true }
    if (type === 'refused' || type === 'failed') return { phase, send: false }
  } else if (type !== 'ready' && type !== 'proof') {
    // Version 1 never required `accepted` before tokens; a refusal may follow it (the engine found the
    // request at fault before its first token).
    const started = type !== 'refused' && type !== 'failed' && type !== 'load'
    return { phase: started ? 'accepted' : phase, send: false }
  }
  throw new WireOrderError(phase, type)
}

/**
 * Largest frame: a request (its images included: up to 10 MiB decoded, a third more as base64, beside
 * a body of up to 16 MiB) or an output (up to the result limit).
 */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024

export interface JsonFrames {
  read(signal?: AbortSignal): Promise<unknown>
  write(value: unknown, signal?: AbortSignal): Promise<void>
  /** Writes frames at once, each with its own length prefix: read as `values.length` frames. */
  writeAll(values: readonly unknown[], signal?: AbortSignal): Promise<void>
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function jsonFrames(stream: Stream): JsonFrames {
  const lp = framedStream(stream, { maxDataLength: MAX_FRAME_BYTES })
  return {
    async read(signal) {
      return parseWireJson(decoder.decode((await lp.read({ signal })).subarray()), 'a direct request frame')
    },
    async write(value, signal) {
      await lp.write(encoder.encode(JSON.stringify(value)), { signal })
    },
    async writeAll(values, signal) {
      await lp.writeV(
        values.map((value) => encoder.encode(JSON.stringify(value))),
        { signal },
      )
    },
  }
}
