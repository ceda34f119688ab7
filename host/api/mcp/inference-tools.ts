/**
 * Inference on the mesh as tools: generate text and embed, each an `infer.generate` / `infer.embed`
 * run on a peer holding the model, as `/v1` runs it (or on several, with fan_out, reduced by agreement).
 * The input schemas are the workers' own, so an agent sees exactly what a peer accepts.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { TaskSchema } from '../../../zomes-bindings/index.ts'
import { TASK_DEFAULTS } from '../../interface/task-defaults.ts'
import { InferEmbedInputSchema, InferEmbedOutputSchema } from '../../workers/infer-embed.ts'
import { InferGenerateInputSchema, InferGenerateOutputSchema } from '../../workers/infer-generate.ts'
import { type ApiKeyView, keyAllowsModel } from '../api-keys.ts'
import type { ApiClient, RunEvent } from '../client/index.ts'
import type { RunAnswerView } from '../contract/index.ts'
import { type EndpointUsage, maxTokensOf } from '../openai/endpoint-usage.ts'
import { taskOutcome } from './run-task.ts'
import { jsonResult, progressSender, type ToolExtra } from './tool-reply.ts'

const FanOutSchema = TaskSchema.shape.fan_out
  .default(TASK_DEFAULTS.fanOut)
  .describe(
    'how many different peers answer; above 1 the answer most of them agree on is chosen, and each vote reported',
  )

/**
 * One progress message per event of the run: streamed text as it is, other events as a short line;
 * none for a model's load, reasoning or tool calls (the answer holds them whole).
 */
function progressMessage(event: RunEvent): string | null {
  switch (event.type) {
    case 'submitted':
      return `submitted ${event.task}`
    case 'waiting':
      return `waiting for a claim: ${event.reason}`
    case 'assigned':
      return `running (attempt 1 on ${event.peer})`
    case 'token':
      return event.text
    case 'load':
    case 'reasoning':
    case 'tool-call':
      return null
  }
}

/**
 * Runs generation or embeddings on the mesh as `/v1` does (straight to a runner; fan-out through the
 * round, whose votes are on record); cancelling the call cancels the run.
 */
async function infer(
  { api, key, limits }: Tools,
  kind: 'infer.generate' | 'infer.embed',
  { fan_out, ...input }: { fan_out: number; model?: string },
  extra: ToolExtra,
): Promise<{ answer: RunAnswerView; outcome: ReturnType<typeof taskOutcome> | null }> {
  if (key?.models && (input.model === undefined || !keyAllowsModel(key, input.model))) {
    throw new Error(`model: this API key may use only ${key.models.join(', ')}; name one of them`)
  }
  // Over one of the key's limits: the tool fails saying which and when to try again (as /v1's 429).
  const ticket = limits?.admit(key, {
    maxTokens: kind === 'infer.generate' ? maxTokensOf(input as { max_tokens?: number }) : 0,
    runs: fan_out,
  })
  const send = progressSender(extra)
  let answer: RunAnswerView
  try {
    answer = await api.runRequest(
      { kind, model: input.model, input, fan_out },
      {
        signal: extra.signal,
        onEvent: (event) => {
          ticket?.saw(event)
          const message = progressMessage(event)
          if (message !== null) send(message)
        },
      },
    )
    ticket?.answered(answer)
  } finally {
    ticket?.end(extra.signal.aborted)
  }
  const outcome = fan_out > 1 ? taskOutcome(await api.getTask(answer.task, { signal: extra.signal })) : null
  return { answer, outcome }
}

interface Tools {
  api: ApiClient
  key: ApiKeyView | null
  limits: Pick<EndpointUsage, 'admit'> | undefined
}

export function registerInferenceTools(
  server: McpServer,
  api: ApiClient,
  key: ApiKeyView | null,
  limits?: Pick<EndpointUsage, 'admit'>,
): void {
  const tools: Tools = { api, key, limits }
  server.registerTool(
    'generate_text',
    {
      title: 'Generate text',
      description:
        'Generate text with a GGUF model on the mesh (llama.cpp on whichever peer has the model): a prompt or chat messages, max_tokens, temperature (0 = greedy, deterministic), seed, optionally a JSON schema or GBNF grammar. Tokens stream as progress notifications while the peer produces them; the answer names the peer that ran it, the model file (by hash), the parameters (with the seed used), the timings, and the request whose signed record holds it (`task`). With fan_out N, N peers answer and the text most agree on is returned with every vote. Cancelling the call cancels the run.',
      inputSchema: InferGenerateInputSchema.safeExtend({ fan_out: FanOutSchema }),
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (args, extra) => {
      const { answer, outcome } = await infer(tools, 'infer.generate', args, extra)
      return jsonResult({
        ...InferGenerateOutputSchema.parse(answer.output),
        ran_on: answer.peer,
        result: outcome?.result ?? null,
        agreement: outcome?.receipt?.reason ?? null,
        votes: outcome?.votes ?? [],
        task: answer.task,
      })
    },
  )

  server.registerTool(
    'embed',
    {
      title: 'Embed',
      description:
        "Embedding vectors for one text or several (one vector each, in order) from a GGUF model on the mesh, of the model's dimension. With fan_out N, N peers answer and the vectors most agree on (cosine similarity) are returned with every vote.",
      inputSchema: InferEmbedInputSchema.safeExtend({ fan_out: FanOutSchema }),
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (args, extra) => {
      const { answer, outcome } = await infer(tools, 'infer.embed', args, extra)
      return jsonResult({
        ...InferEmbedOutputSchema.parse(answer.output),
        ran_on: answer.peer,
        votes: outcome?.votes ?? [],
        task: answer.task,
      })
    },
  )
}
