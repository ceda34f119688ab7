/**
 * Inference on the mesh as tools: generate text and embed, each an `infer.generate` / `infer.embed`
 * task that runs on a peer holding the model (or on several, with fan_out, reduced by agreement).
 * The input schemas are the workers' own, so an agent sees exactly what a peer accepts.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { TaskSchema } from '../../../zomes-bindings/index.ts'
import { InferEmbedInputSchema, InferEmbedOutputSchema } from '../../workers/infer-embed.ts'
import { InferGenerateInputSchema, InferGenerateOutputSchema } from '../../workers/infer-generate.ts'
import { type ApiKeyView, keyAllowsModel } from '../api-keys.ts'
import type { ApiClient } from '../client/index.ts'
import { acceptedOutput, type TaskView } from '../contract/index.ts'
import { runTask, TaskEndedError, taskOutcome } from './run-task.ts'
import { jsonResult, type ToolExtra } from './tool-reply.ts'

const FanOutSchema = TaskSchema.shape.fan_out
  .default(1)
  .describe(
    'how many different peers answer; above 1 the answer most of them agree on is chosen, and each vote reported',
  )

/** Runs an inference task; answers the outcome with the accepted output. */
async function infer(
  api: ApiClient,
  key: ApiKeyView | null,
  kind: 'infer.generate' | 'infer.embed',
  { fan_out, ...input }: { fan_out: number; model?: string },
  extra: ToolExtra,
): Promise<{ view: TaskView; outcome: ReturnType<typeof taskOutcome> }> {
  if (key?.models && (input.model === undefined || !keyAllowsModel(key, input.model))) {
    throw new Error(`model: this API key may use only ${key.models.join(', ')}; name one of them`)
  }
  const requirements = input.model === undefined ? {} : { model: input.model }
  const view = await runTask(api, { kind, input, requirements, fan_out }, extra)
  if (view.state.status !== 'done') throw new TaskEndedError(view)
  return { view, outcome: taskOutcome(view) }
}

export function registerInferenceTools(server: McpServer, api: ApiClient, key: ApiKeyView | null): void {
  server.registerTool(
    'generate_text',
    {
      title: 'Generate text',
      description:
        'Generate text with a GGUF model on the mesh (llama.cpp on whichever peer has the model): a prompt or chat messages, max_tokens, temperature (0 = greedy, deterministic), seed, optionally a JSON schema or GBNF grammar. Tokens stream as progress notifications while the peer produces them; the answer names the peer that ran it, the model file (by hash), the parameters (with the seed used) and the timings. With fan_out N, N peers answer and the text most agree on is returned with every vote. Cancelling the call cancels the task.',
      inputSchema: InferGenerateInputSchema.safeExtend({ fan_out: FanOutSchema }),
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (args, extra) => {
      const { view, outcome } = await infer(api, key, 'infer.generate', args, extra)
      const output = InferGenerateOutputSchema.parse(acceptedOutput(view))
      return jsonResult({
        ...output,
        ran_on: outcome.result?.author ?? null,
        result: outcome.result,
        agreement: view.state.task.entry.fan_out > 1 ? (outcome.receipt?.reason ?? null) : null,
        votes: outcome.votes,
        task: outcome.task,
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
      const { view, outcome } = await infer(api, key, 'infer.embed', args, extra)
      const output = InferEmbedOutputSchema.parse(acceptedOutput(view))
      return jsonResult({
        ...output,
        ran_on: outcome.result?.author ?? null,
        votes: outcome.votes,
        task: outcome.task,
      })
    },
  )
}
