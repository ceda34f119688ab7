/** Tools for tasks on the mesh: submit (and wait), look at one's whole life, cancel; a task as a resource. */
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { ActionHashB64Schema, ReasonSchema, Sha256HexSchema } from '../../../zomes-bindings/index.ts'
import { isRequestHash } from '../../requests/direct/direct-request.ts'
import type { ApiClient } from '../client/index.ts'
import { SubmitTaskBodySchema } from '../contract/index.ts'
import { runTask, taskOutcome } from './run-task.ts'
import { JSON_TYPE, jsonResult } from './tool-reply.ts'

const TaskHashSchema = ActionHashB64Schema.describe(
  "the task's action hash (uhCkk...), as submit_task answered it",
)

export function registerTaskTools(server: McpServer, api: ApiClient): void {
  server.registerTool(
    'submit_task',
    {
      title: 'Submit a task',
      description:
        'Submit a task to the mesh: the best peer that meets the requirements and whose policies allow it runs it and signs the result onto its own chain (with fan_out N, N different peers answer and the answer most agree on is chosen). Kinds: echo ({message}), sha256 ({data}), infer.generate and infer.embed (prefer generate_text / embed). With wait: true the call follows the task (progress notifications: status changes, streamed tokens) and answers its output, the signed result and who ran it; cancelling the call cancels the task. Without wait it answers the task hash at once (see get_task).',
      inputSchema: {
        ...SubmitTaskBodySchema.shape,
        kind: SubmitTaskBodySchema.shape.kind.describe(
          'the task kind, e.g. "echo", "sha256", "infer.generate"',
        ),
        input: SubmitTaskBodySchema.shape.input.describe('the input the kind takes, as JSON'),
        requirements: SubmitTaskBodySchema.shape.requirements.describe(
          'what the peer must have; any of min_ram_bytes, min_vram_bytes, gpu, min_cores, model, tags',
        ),
        wait: z.boolean().default(false).describe('follow the task until it ends and answer its outcome'),
      },
      annotations: { destructiveHint: false, openWorldHint: true },
    },
    async ({ wait, ...body }, extra) => {
      if (!wait)
        return jsonResult({ task: (await api.submitTask(body, { signal: extra.signal })).action_hash })
      return jsonResult(taskOutcome(await runTask(api, body, extra)))
    },
  )

  server.registerTool(
    'get_task',
    {
      title: 'Get a task',
      description:
        "The whole life of a task as this peer knows it: the task, every claim, assignment (attempt, slot, lease), signed result and the receipt with its votes, a cancellation, the policy decisions about it, and for a task nobody claims, why (e.g. no node has the model). Given the hash of a request that went straight to its runner (the `task` generate_text and embed answer, 64 hex), its signed record on a peer that took part in it: the runner's leaf, its Merkle proof against the runner's batch, and whether the output served is the one signed (no prompt or answer text is kept in records).",
      inputSchema: {
        hash: z.union([
          TaskHashSchema,
          Sha256HexSchema.describe("a request's hash, as generate_text and embed answer `task`"),
        ]),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ hash }, extra) => {
      if (isRequestHash(hash)) return jsonResult(await api.getServed(hash, { signal: extra.signal }))
      const view = await api.getTask(hash, { signal: extra.signal })
      return jsonResult({ ...taskOutcome(view), why_unclaimed: view.why_unclaimed, view })
    },
  )

  server.registerTool(
    'cancel_task',
    {
      title: 'Cancel a task',
      description: 'Cancel a task this peer submitted (only its author may); a running attempt is stopped.',
      inputSchema: {
        hash: TaskHashSchema,
        reason: ReasonSchema.optional().describe('why, kept in the signed cancellation'),
      },
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async ({ hash, reason }, extra) => {
      const ref = await api.cancelTask(hash, reason, { signal: extra.signal })
      return jsonResult({ task: hash, cancellation: ref.action_hash })
    },
  )

  server.registerResource(
    'task',
    new ResourceTemplate('ripple://tasks/{hash}', {
      list: async (extra) => {
        const { tasks } = await api.listTasks({ signal: extra.signal })
        return {
          resources: tasks.map((t) => ({
            uri: `ripple://tasks/${t.action_hash}`,
            name: `${t.kind} ${t.status}`,
            mimeType: JSON_TYPE,
          })),
        }
      },
    }),
    {
      title: 'A task',
      description:
        'The whole life of a task by its action hash: claims, assignments, signed results, receipt',
      mimeType: JSON_TYPE,
    },
    async (uri, { hash }, extra) => {
      const view = await api.getTask(String(hash), { signal: extra.signal })
      return { contents: [{ uri: uri.href, mimeType: JSON_TYPE, text: JSON.stringify(view) }] }
    },
  )
}
