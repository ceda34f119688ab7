/**
 * Running a request on the mesh (`POST /api/mesh/run`): the way the CLI and the MCP server run
 * generation and embeddings, as `/v1` does. One answer goes straight to a runner (the record follows);
 * fan-out, `route: "round"` and a request that names no model take the scheduling round.
 */
import { z } from 'zod'
import { TaskSchema } from '../../../zomes-bindings/index.ts'
import {
  AssignedEventSchema,
  LoadEventSchema,
  ReasoningEventSchema,
  type RunProgress,
  SubmittedEventSchema,
  TokenEventSchema,
  ToolCallEventSchema,
  WaitingEventSchema,
} from '../../interface/run-event.ts'
import { TASK_DEFAULTS } from '../../interface/task-defaults.ts'
import type { InferenceAnswer } from '../../requests/requests-port.ts'
import { describes } from './same-shape.ts'
import { ApiErrorBodySchema } from './views.ts'

export const RunRequestBodySchema = z.object({
  kind: z.enum(['infer.generate', 'infer.embed']),
  /** Unnamed: any peer with a model of its own runs it (a task). */
  model: z.string().min(1).optional(),
  /** The worker's input (checked by the worker's own schema before anything runs). */
  input: z.record(z.string(), z.unknown()),
  fan_out: TaskSchema.shape.fan_out.default(TASK_DEFAULTS.fanOut),
  route: z.enum(['direct', 'round']).optional(),
})
export type RunRequestBody = z.input<typeof RunRequestBodySchema>

export const RunAnswerViewSchema = describes<InferenceAnswer>()(
  z.object({
    /** The task's action hash, or the direct request's hash (`ripple task show` takes either). */
    task: z.string(),
    /** Who ran it: the author of the accepted Result, or of the runner's Answer. */
    peer: z.string(),
    output: z.unknown(),
  }),
)
export type RunAnswerView = z.infer<typeof RunAnswerViewSchema>

/**
 * What the run streams, in order: its events as they are (interface/run-event.ts: the request named,
 * why nobody took it yet, who took it, the model's load, its reasoning, text and tool calls), each
 * named by its type; then its answer, or the error that ended it.
 */
export const RunEventSchemas = {
  submitted: SubmittedEventSchema,
  waiting: WaitingEventSchema,
  assigned: AssignedEventSchema,
  load: LoadEventSchema,
  reasoning: ReasoningEventSchema,
  token: TokenEventSchema,
  'tool-call': ToolCallEventSchema,
  answer: RunAnswerViewSchema,
  error: ApiErrorBodySchema,
} satisfies { [T in RunProgress['type']]: z.ZodType<Extract<RunProgress, { type: T }>> } & Record<
  'answer' | 'error',
  z.ZodType
>
