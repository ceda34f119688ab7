/**
 * `infer.generate`: text from a local GGUF model for a prompt or chat messages. Tokens stream to the
 * requester as progress (`{ type: 'token', data: text }`) while they are produced. The output names
 * the model by file hash and carries the sampling parameters (with the seed actually used) and the
 * timings, so the signed Result says exactly what produced the text and how fast.
 */
import { randomInt } from 'node:crypto'
import { z } from 'zod'
import { ModelNameSchema } from '../../zomes-bindings/index.ts'
import { generate } from '../inference/generate.ts'
import type { ModelManager } from '../inference/model-manager.ts'
import { loadProgress, ModelFactsSchema, modelFacts } from './model-facts.ts'
import { placeModel } from './model-placement.ts'
import type { Worker } from './worker.ts'

const MAX_TOKENS = 32_768
const SEED_MAX = 0xffffffff

const ChatMessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
})

export const InferGenerateInputSchema = z
  .strictObject({
    /** Default: the only loaded model, else the only model of the peer. */
    model: ModelNameSchema.optional(),
    prompt: z.string().min(1).optional(),
    messages: z.array(ChatMessageSchema).min(1).max(1024).optional(),
    max_tokens: z.number().int().min(1).max(MAX_TOKENS).default(256),
    /** 0 is greedy: the same model and input give the same text. */
    temperature: z.number().min(0).max(2).default(0),
    /** Default: a random seed (reported in the output). */
    seed: z.number().int().min(0).max(SEED_MAX).optional(),
    /** Constrain the output to JSON matching this schema (node-llama-cpp's JSON schema subset). */
    json_schema: z.record(z.string(), z.json()).optional(),
    /** Constrain the output with a GBNF grammar. */
    grammar: z.string().min(1).optional(),
  })
  .refine((i) => (i.prompt === undefined) !== (i.messages === undefined), {
    message: 'exactly one of prompt and messages must be set',
    path: ['prompt'],
  })
  .refine((i) => i.json_schema === undefined || i.grammar === undefined, {
    message: 'json_schema and grammar are exclusive',
    path: ['grammar'],
  })
  .refine((i) => i.messages === undefined || i.messages.at(-1)?.role === 'user', {
    message: 'the last message must be from the user',
    path: ['messages'],
  })
export type InferGenerateInput = z.input<typeof InferGenerateInputSchema>

export const InferGenerateOutputSchema = z.strictObject({
  text: z.string(),
  /** The parsed output when a JSON schema was given and the output is complete. */
  json: z.json().nullable(),
  stop_reason: z.enum(['eos', 'max_tokens', 'stop_trigger', 'abort']),
  model: ModelFactsSchema,
  params: z.strictObject({
    max_tokens: z.number().int(),
    temperature: z.number(),
    seed: z.number().int(),
    constraint: z.enum(['none', 'json_schema', 'grammar']),
    context_size: z.number().int(),
    threads: z.number().int(),
  }),
  timings: z.strictObject({
    /** Time spent loading the model for this task (0 when it was loaded already). */
    load_ms: z.number().min(0),
    prompt_tokens: z.number().int().min(0),
    generated_tokens: z.number().int().min(0),
    time_to_first_token_ms: z.number().min(0),
    total_ms: z.number().min(0),
    tokens_per_second: z.number().min(0).nullable(),
  }),
})
export type InferGenerateOutput = z.output<typeof InferGenerateOutputSchema>

export function inferGenerateWorker(
  models: ModelManager,
): Worker<typeof InferGenerateInputSchema, typeof InferGenerateOutputSchema> {
  return {
    kind: 'infer.generate',
    needsModel: true,
    place: (input) => placeModel(models, input.model),
    input: InferGenerateInputSchema,
    output: InferGenerateOutputSchema,
    async run(input, ctx) {
      const { model, loadMs } = await models.acquire(input.model, loadProgress(ctx))
      const seed = input.seed ?? randomInt(SEED_MAX)
      const result = await generate(
        model,
        { ...input, seed },
        { signal: ctx.signal, onText: (text) => ctx.onProgress({ type: 'token', data: text }) },
      )
      const output: InferGenerateOutput = {
        text: result.text,
        json: (result.json ?? null) as InferGenerateOutput['json'],
        stop_reason: result.stop_reason,
        model: modelFacts(model),
        params: {
          max_tokens: input.max_tokens,
          temperature: input.temperature,
          seed,
          constraint: input.json_schema ? 'json_schema' : input.grammar ? 'grammar' : 'none',
          context_size: model.contextSize,
          threads: model.threads,
        },
        timings: {
          load_ms: loadMs,
          prompt_tokens: result.prompt_tokens,
          generated_tokens: result.generated_tokens,
          time_to_first_token_ms: result.time_to_first_token_ms,
          total_ms: result.total_ms,
          tokens_per_second: result.tokens_per_second,
        },
      }
      return {
        output,
        metrics: {
          tokens_in: result.prompt_tokens,
          tokens_out: result.generated_tokens,
          ...(result.tokens_per_second === null ? {} : { tokens_per_second: result.tokens_per_second }),
          model_file_hash: model.info.sha256,
          load_ms: loadMs,
        },
      }
    },
  }
}
