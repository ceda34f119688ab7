/**
 * OpenAI's legacy `POST /v1/completions` (a raw prompt, no chat template), translated into an
 * `infer.generate` input and back into a `text_completion`, streamed or not. Pure.
 */
import { z } from 'zod'
import { renderEach } from '../../interface/run-event.ts'
import { finishReason } from './chat-completions.ts'
import {
  type GenerateCall,
  type GenerateOutput,
  KeepAliveSchema,
  MaxTokensSchema,
  openaiUsage,
  RippleExtensionSchema,
  rippleOptions,
  SeedSchema,
  StopSchema,
  samplingInput,
  stopList,
  TemperatureSchema,
  TopPSchema,
} from './generation.ts'
import { type SseEvent, type StreamRenderer, type TaskIdentity, UNSHOWN } from './serve-task.ts'

/** OpenAI's default for this endpoint. */
const DEFAULT_MAX_TOKENS = 16

export const CompletionRequestSchema = z.object({
  model: z.string().min(1),
  prompt: z.union([
    z.string().min(1),
    z.array(z.string().min(1)).length(1, 'one prompt per request (an array of one string)'),
  ]),
  max_tokens: MaxTokensSchema.nullish(),
  temperature: TemperatureSchema.nullish(),
  top_p: TopPSchema.nullish(),
  seed: SeedSchema.nullish(),
  keep_alive: KeepAliveSchema.optional(),
  stop: StopSchema.nullish(),
  n: z.literal(1, 'only n = 1 is supported').nullish(),
  echo: z.literal(false, 'echo is not supported').nullish(),
  suffix: z.null('suffix is not supported').optional(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  ripple: RippleExtensionSchema,
})
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>

export function completionCall(request: CompletionRequest): GenerateCall & { includeUsage: boolean } {
  return {
    model: request.model,
    input: {
      prompt: typeof request.prompt === 'string' ? request.prompt : (request.prompt[0] ?? ''),
      max_tokens: request.max_tokens ?? DEFAULT_MAX_TOKENS,
      ...samplingInput(request, { stop: stopList(request.stop) }),
    },
    ...rippleOptions(request.ripple),
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
  }
}

function base(id: TaskIdentity) {
  return { id: `cmpl-${id.task}`, object: 'text_completion' as const, created: id.created, model: id.model }
}

export function completion(id: TaskIdentity, output: GenerateOutput) {
  return {
    ...base(id),
    system_fingerprint: output.model.file_hash,
    choices: [{ index: 0, text: output.text, logprobs: null, finish_reason: finishReason(output) }],
    usage: openaiUsage(output),
  }
}

export function completionStream(
  id: TaskIdentity,
  includeUsage: boolean,
  errorBody: (err: Error) => unknown,
): StreamRenderer {
  const choice = (text: string, finish: string | null): SseEvent => ({
    data: { ...base(id), choices: [{ index: 0, text, logprobs: null, finish_reason: finish }] },
  })
  return {
    start: () => [],
    render: renderEach<SseEvent[]>({
      ...UNSHOWN,
      // A completion has no place for reasoning, nor tools to call.
      reasoning: () => [],
      'tool-call': () => [],
      token: ({ text }) => (text === '' ? [] : [choice(text, null)]),
      done: ({ output }) => {
        const o = output as GenerateOutput
        return [
          choice('', finishReason(o)),
          ...(includeUsage ? [{ data: { ...base(id), choices: [], usage: openaiUsage(o) } }] : []),
          { data: '[DONE]' },
        ]
      },
    }),
    error: (err) => [{ data: errorBody(err) }],
  }
}
