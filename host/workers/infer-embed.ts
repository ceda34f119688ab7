/** `infer.embed`: embedding vectors from a local GGUF model, one per input text, of the model's dimension. */
import { z } from 'zod'
import { ModelNameSchema } from '../../zomes-bindings/index.ts'
import { acquireMeant, KeepAliveMsSchema, ModelFactsSchema, modelFacts } from './model-facts.ts'
import type { Worker } from './worker.ts'
import type { WorkerModels } from './worker-models.ts'

const MAX_TEXTS = 256

export const InferEmbedInputSchema = z.strictObject({
  /** Default: the only loaded model, else the only model of the peer. */
  model: ModelNameSchema.optional(),
  /** One text, or several (one vector each, in order). */
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(MAX_TEXTS)]),
  /** How long the model stays loaded once idle, from now on (Ollama's keep_alive); -1: never. */
  keep_alive_ms: KeepAliveMsSchema.optional(),
})
export type InferEmbedInput = z.input<typeof InferEmbedInputSchema>

export const InferEmbedOutputSchema = z
  .strictObject({
    model: ModelFactsSchema,
    dimension: z.number().int().min(1),
    vectors: z.array(z.array(z.number())),
    timings: z.strictObject({
      load_ms: z.number().min(0),
      tokens: z.number().int().min(0),
      total_ms: z.number().min(0),
    }),
  })
  .refine((o) => o.vectors.every((v) => v.length === o.dimension), {
    message: 'every vector must have the model dimension',
    path: ['vectors'],
  })
export type InferEmbedOutput = z.output<typeof InferEmbedOutputSchema>

export function inferEmbedWorker(
  models: WorkerModels,
): Worker<typeof InferEmbedInputSchema, typeof InferEmbedOutputSchema> {
  return {
    kind: 'infer.embed',
    needsModel: true,
    place: (model) => models.place(model),
    input: InferEmbedInputSchema,
    output: InferEmbedOutputSchema,
    async run(input, ctx) {
      const { model, loadMs } = await acquireMeant(models, input, ctx)
      const texts = typeof input.input === 'string' ? [input.input] : input.input
      const result = await model.embed(texts, ctx.signal)
      const output: InferEmbedOutput = {
        model: modelFacts(model),
        dimension: result.dimension,
        vectors: result.vectors,
        timings: { load_ms: loadMs, tokens: result.tokens, total_ms: result.total_ms },
      }
      return {
        output,
        metrics: { tokens_in: result.tokens, model_file_hash: model.info.sha256, load_ms: loadMs },
      }
    },
  }
}
