/**
 * `infer.generate`: text from a local GGUF model for a prompt or chat messages. Its text streams to
 * the requester as `token` events (a thinking model's reasoning as `reasoning` events before them)
 * while it is produced. The output names the model by file hash and carries the sampling parameters
 * (with the seed actually used) and the timings, so the signed Result says exactly what produced the
 * text and how fast.
 */
import { randomInt } from 'node:crypto'
import { z } from 'zod'
import { outputRoom } from '../inference/generate.ts'
import type { OutputEvent } from '../interface/run-event.ts'
import { InferGenerateInputSchema, MAX_TOOLS, SEED_MAX, ToolCallSchema } from './infer-generate-input.ts'
import { acquireMeant, ModelFactsSchema, modelFacts } from './model-facts.ts'
import type { Worker } from './worker.ts'
import type { WorkerModels } from './worker-models.ts'

export {
  type InferGenerateInput,
  InferGenerateInputSchema,
} from './infer-generate-input.ts'

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
    /** The most tokens the answer could take: the request's, or what the context left after the prompt. */
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
      const pieces = coalescedPieces(ctx.onEvent)
      // The input goes to the engine whole: options the input schema adds need no listing here.
      const result = await model
        .generate(
          { ...input, seed },
          {
            signal: ctx.signal,
            ...(!ctx.whole && { onEvent: pieces.push }),
            ...(ctx.yielding && { yielding: ctx.yielding }),
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
          max_tokens: outputRoom(input.max_tokens, model.contextSize, result.prompt_tokens),
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

// Each event is a signal or a frame to the requester: an engine at hundreds of tokens a second would
// send hundreds a second. The first piece goes at once (time to first token); later ones are sent
// together at most this often.
const TOKEN_FLUSH_MS = 15

/**
 * Text, reasoning and tool calls handed on as they come, the first piece at once and the rest in
 * batches of TOKEN_FLUSH_MS; a piece of another kind (or another call) sends what is pending first,
 * so the order holds.
 */
function coalescedPieces(send: (event: OutputEvent) => void): {
  push: (event: OutputEvent) => void
  flush: () => void
} {
  let pending: OutputEvent | null = null
  let timer: NodeJS.Timeout | null = null
  let sentAny = false
  const flush = () => {
    if (timer) clearTimeout(timer)
    timer = null
    if (pending) send(pending)
    pending = null
  }
  return {
    push(event) {
      if (!sentAny) {
        sentAny = true
        send(event)
        return
      }
      const joined = pending && joinPieces(pending, event)
      if (joined) pending = joined
      else {
        flush()
        pending = event
      }
      timer ??= setTimeout(flush, TOKEN_FLUSH_MS)
    },
    flush,
  }
}

/** One event of two pieces in a row of the same kind (of the same call); null for two kinds. */
export function joinPieces(a: OutputEvent, b: OutputEvent): OutputEvent | null {
  if (a.type === 'tool-call')
    return b.type === 'tool-call' && b.index === a.index
      ? { ...a, arguments: a.arguments + b.arguments }
      : null
  return b.type === a.type ? { type: a.type, text: a.text + b.text } : null
}
