/**
 * The direct protocol's frames: the requester sends one request; the runner answers `accepted` (or
 * `refused`, with why), then the tokens as they come, then `done` with the output (or `failed`), and
 * last, once its window of answers is signed, the answer's leaf and Merkle proof. Each frame is length-prefixed JSON.
 */
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { z } from 'zod'
import { DigestHexSchema, LeafProofSchema } from '../../../zomes-bindings/index.ts'
import { DirectRequestSchema } from './direct-request.ts'

export const DIRECT_PROTOCOL = 'direct-infer/1.0.0'

/** Why a runner turns a request down before it starts: the requester tries the next candidate. */
export const RefusalSchema = z.enum(['busy', 'policy', 'no_model', 'no_room', 'invalid', 'failed'])
export type Refusal = z.infer<typeof RefusalSchema>

/** The requester's one frame: the request, and whether to wait for a slot (every peer was busy). */
export const RequestFrameSchema = z.strictObject({ request: DirectRequestSchema, queue: z.boolean() })

export const RunnerFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('accepted') }),
  z.strictObject({
    type: z.literal('refused'),
    why: RefusalSchema,
    message: z.string(),
    // With `invalid`, when the engine found the request at fault: the caller's mistake (run-errors.ts).
    code: z.string().max(64).optional(),
    field: z.string().max(256).nullable().optional(),
  }),
  z.strictObject({ type: z.literal('token'), text: z.string() }),
  // A thinking model's reasoning, before its answer's tokens.
  z.strictObject({ type: z.literal('reasoning'), text: z.string() }),
  z.strictObject({ type: z.literal('done'), output: z.unknown() }),
  z.strictObject({ type: z.literal('failed'), message: z.string() }),
  // Once the runner's window is signed: the answer's leaf, its path and the root it leads to.
  z.strictObject({
    type: z.literal('proof'),
    proof: LeafProofSchema.nullable(),
    root: DigestHexSchema.nullable(),
  }),
])
export type RunnerFrame = z.infer<typeof RunnerFrameSchema>

/**
 * Largest frame: a request (its images included: up to 10 MiB decoded, a third more as base64, beside
 * a body of up to 16 MiB) or an output (up to the result limit).
 */
const MAX_FRAME_BYTES = 32 * 1024 * 1024

export interface JsonFrames {
  read(signal?: AbortSignal): Promise<unknown>
  write(value: unknown, signal?: AbortSignal): Promise<void>
}

export function jsonFrames(stream: Stream): JsonFrames {
  const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
  return {
    async read(signal) {
      return JSON.parse(new TextDecoder().decode((await lp.read({ signal })).subarray()))
    },
    async write(value, signal) {
      await lp.write(new TextEncoder().encode(JSON.stringify(value)), { signal })
    },
  }
}
