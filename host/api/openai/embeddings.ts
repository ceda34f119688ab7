/**
 * OpenAI's `POST /v1/embeddings`, translated into an `infer.embed` input and back: one embedding per
 * input text, as numbers or as base64 of little-endian float32s (what the official clients ask for
 * by default and decode). Pure.
 */
import { z } from 'zod'
import type { InferEmbedInput, InferEmbedOutput } from '../../workers/infer-embed.ts'
import {
  KeepAliveSchema,
  optional,
  RippleExtensionSchema,
  type RippleRoute,
  rippleOptions,
} from './generation.ts'

export const EmbeddingRequestSchema = z.object({
  model: z.string().min(1),
  input: z.union([
    z.string().min(1),
    z
      .array(
        z.string().min(1),
        'input must be a string or an array of strings (token arrays are not supported)',
      )
      .min(1)
      .max(256),
  ]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).nullish(),
  user: z.string().nullish(),
  keep_alive: KeepAliveSchema.optional(),
  ripple: RippleExtensionSchema,
})
export type EmbeddingRequest = z.infer<typeof EmbeddingRequestSchema>

export function embeddingCall(request: EmbeddingRequest): {
  model: string
  input: InferEmbedInput
  fanOut: number
  route: RippleRoute
} {
  return {
    model: request.model,
    input: { input: request.input, ...optional('keep_alive_ms', request.keep_alive) },
    ...rippleOptions(request.ripple),
  }
}

export function embeddingList(request: EmbeddingRequest, output: InferEmbedOutput) {
  const base64 = request.encoding_format === 'base64'
  return {
    object: 'list' as const,
    model: request.model,
    data: output.vectors.map((vector, index) => ({
      object: 'embedding' as const,
      index,
      embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    })),
    usage: { prompt_tokens: output.timings.tokens, total_tokens: output.timings.tokens },
  }
}
