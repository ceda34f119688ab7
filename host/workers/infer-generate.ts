/**
 * `infer.generate`: text from a local GGUF model for a prompt or chat messages. Tokens stream to the
 * requester as progress (`{ type: 'token', data: text }`, a thinking model's reasoning as
 * `{ type: 'reasoning', data: text }` before them) while they are produced. The output names
 * the model by file hash and carries the sampling parameters (with the seed actually used) and the
 * timings, so the signed Result says exactly what produced the text and how fast.
 */
import { randomInt } from 'node:crypto'
import { z } from 'zod'
import { ModelNameSchema } from '../../zomes-bindings/index.ts'
import { ImageDataUrlSchema, MAX_IMAGES } from '../inference/vision.ts'
import { acquireMeant, KeepAliveMsSchema, ModelFactsSchema, modelFacts } from './model-facts.ts'
import type { Worker } from './worker.ts'
import type { WorkerModels } from './worker-models.ts'

const MAX_TOKENS = 32_768
const SEED_MAX = 0xffffffff

const MAX_STOPS = 8
const MAX_TOOLS = 128

const ToolCallSchema = z.strictObject({
  name: z.string().min(1).max(256),
  /** JSON text. */
  arguments: z.string().max(1 << 20),
})

const ChatMessageSchema = z
  .strictObject({
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string(),
    /** An assistant's calls, answered by later `tool` messages with the same id. */
    tool_calls: z
      .array(ToolCallSchema.extend({ id: z.string().min(1).max(256) }))
      .max(MAX_TOOLS)
      .optional(),
    tool_call_id: z.string().min(1).max(256).optional(),
    /** A user message's images (data URLs), before its text; the model needs a projector (vision.ts). */
    images: z.array(ImageDataUrlSchema).min(1).max(MAX_IMAGES).optional(),
  })
  .refine((m) => m.images === undefined || m.role === 'user', {
    message: 'only user messages carry images',
    path: ['images'],
  })
  .refine((m) => m.tool_calls === undefined || m.role === 'assistant', {
    message: 'only assistant messages carry tool_calls',
    path: ['tool_calls'],
  })
  .refine((m) => (m.role === 'tool') === (m.tool_call_id !== undefined), {
    message: 'a tool message (and only one) names the call it answers in tool_call_id',
    path: ['tool_call_id'],
  })

const ToolSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64'),
  description: z.string().max(4096).optional(),
  /** The arguments' JSON schema: llama-server makes a grammar of it, and refuses one it cannot. */
  parameters: z.record(z.string(), z.json()).optional(),
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
    /** How long the model stays loaded once idle, from now on (Ollama's keep_alive); -1: never. */
    keep_alive_ms: KeepAliveMsSchema.optional(),
    /** Constrain the output to JSON matching this schema (llama-server makes a grammar of it). */
    json_schema: z.record(z.string(), z.json()).optional(),
    /** Constrain the output with a GBNF grammar. */
    grammar: z.string().min(1).optional(),
    /** Nucleus sampling: only the most likely tokens adding up to this probability. */
    top_p: z.number().gt(0).max(1).optional(),
    /** Generation stops before any of these texts (not part of the output). */
    stop: z.array(z.string().min(1).max(256)).max(MAX_STOPS).optional(),
    /** Functions the model may call (with messages only). */
    tools: z.array(ToolSchema).min(1).max(MAX_TOOLS).optional(),
    /** `auto` (default): the model's own function calling; `required` or a name: forced by a grammar. */
    tool_choice: z
      .union([z.enum(['auto', 'none', 'required']), z.strictObject({ name: z.string().min(1) })])
      .optional(),
    /** Tokens a thinking model may reason before answering; 0 turns thinking off where the template can. */
    reasoning_budget: z.number().int().min(0).max(MAX_TOKENS).optional(),
  })
  .refine((i) => (i.prompt === undefined) !== (i.messages === undefined), {
    message: 'exactly one of prompt and messages must be set',
    path: ['prompt'],
  })
  .refine((i) => i.json_schema === undefined || i.grammar === undefined, {
    message: 'json_schema and grammar are exclusive',
    path: ['grammar'],
  })
  .refine((i) => i.messages === undefined || ['user', 'tool'].includes(i.messages.at(-1)?.role ?? ''), {
    message: 'the last message must be from the user or a tool',
    path: ['messages'],
  })
  .refine((i) => i.tools === undefined || i.messages !== undefined, {
    message: 'tools go with messages, not a prompt',
    path: ['tools'],
  })
  .refine(
    (i) =>
      typeof i.tool_choice !== 'object' ||
      (i.tools ?? []).some((t) => t.name === (i.tool_choice as { name: string }).name),
    { message: 'tool_choice names a tool that is not among the tools', path: ['tool_choice'] },
  )
  .refine((i) => i.tool_choice !== 'required' || i.tools !== undefined, {
    message: 'tool_choice "required" needs tools',
    path: ['tool_choice'],
  })
  .refine(
    (i) =>
      i.tool_choice === undefined ||
      i.tool_choice === 'auto' ||
      i.tool_choice === 'none' ||
      (i.json_schema === undefined && i.grammar === undefined),
    {
      message: 'a forced tool call has its own grammar: no json_schema or grammar with it',
      path: ['tool_choice'],
    },
  )
export type InferGenerateInput = z.input<typeof InferGenerateInputSchema>

export const InferGenerateOutputSchema = z.strictObject({
  /** The answer, without the reasoning. */
  text: z.string(),
  /** A thinking model's reasoning, apart from the answer ('' when none): served, so signed with it. */
  reasoning: z.string(),
  /** The parsed output when a JSON schema was given and the output is complete. */
  json: z.json().nullable(),
  /** The calls the model made; empty when it answered in text. */
  tool_calls: z.array(ToolCallSchema).max(MAX_TOOLS),
  stop_reason: z.enum(['eos', 'max_tokens', 'stop_trigger', 'abort', 'tool_calls']),
  model: ModelFactsSchema,
  params: z.strictObject({
    max_tokens: z.number().int(),
    temperature: z.number(),
    seed: z.number().int(),
    top_p: z.number().nullable(),
    constraint: z.enum(['none', 'json_schema', 'grammar', 'tool_call']),
    context_size: z.number().int(),
    threads: z.number().int(),
  }),
  timings: z.strictObject({
    /** Time spent loading the model for this task (0 when it was loaded already). */
    load_ms: z.number().min(0),
    prompt_tokens: z.number().int().min(0),
    generated_tokens: z.number().int().min(0),
    /** Of the generated tokens, those a thinking model spent reasoning. */
    reasoning_tokens: z.number().int().min(0),
    time_to_first_token_ms: z.number().min(0),
    total_ms: z.number().min(0),
    tokens_per_second: z.number().min(0).nullable(),
    /** Prompt tokens the engine reused from an earlier request with the same prefix. */
    cached_tokens: z.number().int().min(0),
  }),
})
export type InferGenerateOutput = z.output<typeof InferGenerateOutputSchema>

export function inferGenerateWorker(
  models: WorkerModels,
): Worker<typeof InferGenerateInputSchema, typeof InferGenerateOutputSchema> {
  return {
    kind: 'infer.generate',
    needsModel: true,
    place: (model) => models.place(model),
    input: InferGenerateInputSchema,
    output: InferGenerateOutputSchema,
    async run(input, ctx) {
      const { model, loadMs } = await acquireMeant(models, input, ctx)
      const seed = input.seed ?? randomInt(SEED_MAX)
      const pieces = coalescedPieces(ctx.onProgress)
      // The input goes to the engine whole: options the input schema adds need no listing here.
      const result = await model
        .generate(
          { ...input, seed },
          {
            signal: ctx.signal,
            onText: (text) => pieces.push('token', text),
            onReasoning: (text) => pieces.push('reasoning', text),
          },
        )
        .finally(pieces.flush)
      const output: InferGenerateOutput = {
        text: result.text,
        reasoning: result.reasoning,
        json: (result.json ?? null) as InferGenerateOutput['json'],
        tool_calls: result.tool_calls,
        stop_reason: result.stop_reason,
        model: modelFacts(model),
        params: {
          max_tokens: input.max_tokens,
          temperature: input.temperature,
          seed,
          top_p: input.top_p ?? null,
          constraint: constraintOf(input),
          context_size: model.contextSize,
          threads: model.threads,
        },
        timings: {
          load_ms: loadMs,
          prompt_tokens: result.prompt_tokens,
          generated_tokens: result.generated_tokens,
          reasoning_tokens: result.reasoning_tokens,
          time_to_first_token_ms: result.time_to_first_token_ms,
          total_ms: result.total_ms,
          tokens_per_second: result.tokens_per_second,
          cached_tokens: result.cached_tokens,
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

function constraintOf(
  input: z.output<typeof InferGenerateInputSchema>,
): InferGenerateOutput['params']['constraint'] {
  if (input.tool_choice !== undefined && input.tool_choice !== 'auto' && input.tool_choice !== 'none')
    return 'tool_call'
  return input.json_schema ? 'json_schema' : input.grammar ? 'grammar' : 'none'
}

// Each progress event is a signal to the requester: an engine at hundreds of tokens a second would
// send hundreds a second. The first piece goes at once (time to first token); later ones are sent
// together at most this often.
const TOKEN_FLUSH_MS = 15

type PieceType = 'token' | 'reasoning'

/**
 * Text and reasoning handed on as they come, the first piece at once and the rest in batches of
 * TOKEN_FLUSH_MS; a piece of the other type sends what is pending first, so the order holds.
 */
function coalescedPieces(send: (progress: { type: PieceType; data: string }) => void): {
  push: (type: PieceType, text: string) => void
  flush: () => void
} {
  let pending = ''
  let pendingType: PieceType = 'token'
  let timer: NodeJS.Timeout | null = null
  let sentAny = false
  const flush = () => {
    if (timer) clearTimeout(timer)
    timer = null
    if (pending) send({ type: pendingType, data: pending })
    pending = ''
  }
  return {
    push(type, text) {
      if (!sentAny) {
        sentAny = true
        send({ type, data: text })
        return
      }
      if (type !== pendingType) flush()
      pendingType = type
      pending += text
      timer ??= setTimeout(flush, TOKEN_FLUSH_MS)
    },
    flush,
  }
}
