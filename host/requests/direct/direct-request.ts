/**
 * A request routed straight to its runner, as both sides name it: the request hash covers the kind,
 * the model, the input, a nonce (two equal requests are two records) and the requester, so the
 * runner's Answer and the requester's Served record cite the same request, and `x-ripple-task` can
 * name it before either is written.
 */
import { createHash, randomBytes } from 'node:crypto'
import { z } from 'zod'
import { canonicalJson } from '../../../zomes-bindings/canonical-json.ts'
import { ModelNameSchema } from '../../../zomes-bindings/index.ts'

export const DirectKindSchema = z.enum(['infer.generate', 'infer.embed'])
export type DirectKind = z.infer<typeof DirectKindSchema>

export const DirectRequestSchema = z.strictObject({
  kind: DirectKindSchema,
  model: ModelNameSchema,
  input: z.record(z.string(), z.unknown()),
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
})
export type DirectRequest = z.infer<typeof DirectRequestSchema>

export function newDirectRequest(
  kind: DirectKind,
  model: string,
  input: Record<string, unknown>,
): DirectRequest {
  return { kind, model, input, nonce: randomBytes(16).toString('hex') }
}

/** sha256 (hex) of the request's canonical JSON with its requester. */
export function requestHash(request: DirectRequest, requester: string): string {
  return digestRequest(request, requester).request
}

/**
 * What names a request and sizes its input, as a runner's policies see it before the input itself:
 * the request hash, and the input's `input_hash` and `input_bytes` (as payloadDigest gives them).
 */
export interface RequestDigest {
  request: string
  input_hash: string
  input_bytes: number
}

/**
 * The three from one canonicalisation of the input (its JSON is the costly part of a large prompt):
 * the request's canonical JSON is its keys in order (input, kind, model, nonce, requester) around the
 * input's own canonical JSON, so its hash is taken over those pieces.
 */
export function digestRequest(request: DirectRequest, requester: string): RequestDigest {
  const input = Buffer.from(canonicalJson(request.input), 'utf8')
  const { kind, model, nonce } = request
  const hash = createHash('sha256')
    .update('{"input":')
    .update(input)
    .update(
      `,"kind":${JSON.stringify(kind)},"model":${JSON.stringify(model)},"nonce":${JSON.stringify(nonce)}`,
    )
    .update(`,"requester":${JSON.stringify(requester)}}`)
  return {
    request: hash.digest('hex'),
    input_hash: createHash('sha256').update(input).digest('hex'),
    input_bytes: input.length,
  }
}

/** Whether a task reference is a direct request's hash (an action hash otherwise). */
export function isRequestHash(ref: string): boolean {
  return /^[0-9a-f]{64}$/.test(ref)
}
