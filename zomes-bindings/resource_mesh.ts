/** resource_mesh: tasks and their life (submitted, claimed, assigned, running, done/failed/expired/cancelled). */
import { z } from 'zod'
import {
  ActionHashB64Schema,
  AgentPubKeyB64Schema,
  ByteCountSchema,
  boundedJson,
  CidSchema,
  DottedIdSchema,
  entryRecord,
  int,
  LIMITS,
  list,
  ModelNameSchema,
  NoInputSchema,
  num,
  ReasonSchema,
  RecordRefSchema,
  Sha256HexSchema,
  TagSchema,
  TimestampSchema,
  text,
} from './common.ts'

const T = LIMITS.task
const C = LIMITS.claim
const R = LIMITS.result
const DurationMsSchema = int(LIMITS.duration_ms)

export const RequirementsSchema = z
  .strictObject({
    min_ram_bytes: ByteCountSchema,
    min_vram_bytes: ByteCountSchema,
    gpu: z.boolean(),
    min_cores: int(T.min_cores),
    model: ModelNameSchema.nullable(),
    tags: list(TagSchema, T.requirement_tags),
  })
  .refine((r) => r.gpu || r.min_vram_bytes === 0, {
    message: 'min_vram_bytes above 0 needs gpu: true',
    path: ['min_vram_bytes'],
  })
export type Requirements = z.infer<typeof RequirementsSchema>

export const TaskSchema = z
  .strictObject({
    kind: DottedIdSchema(T.kind),
    /** Inline JSON input (null when the input is at `input_cid`). */
    input: boundedJson(T.input_json_bytes),
    input_cid: CidSchema.nullable(),
    requirements: RequirementsSchema,
    lease_ms: int(T.lease_ms),
    deadline: TimestampSchema,
    max_attempts: int(T.max_attempts),
    fan_out: int(T.fan_out),
  })
  .refine((t) => (t.input === null) !== (t.input_cid === null), {
    message: 'exactly one of input and input_cid must be set',
    path: ['input'],
  })
export type Task = z.infer<typeof TaskSchema>

/** What the claimant offers: the part of its capability and load the requester ranks claims by. */
export const ClaimSnapshotSchema = z.strictObject({
  cores: int(C.cores),
  ram_bytes: ByteCountSchema,
  vram_bytes: ByteCountSchema,
  gpu_count: int(C.gpu_count),
  models: list(ModelNameSchema, C.models),
  loaded_models: list(ModelNameSchema, C.models),
  tags: list(TagSchema, C.tags),
  queue_depth: int(C.queue_depth),
})
export type ClaimSnapshot = z.infer<typeof ClaimSnapshotSchema>

/** A peer offers to run a task; its author is the claimant. It must meet the task's requirements. */
export const ClaimSchema = z.strictObject({
  task: ActionHashB64Schema,
  snapshot: ClaimSnapshotSchema,
})
export type Claim = z.infer<typeof ClaimSchema>

/** Written only by the task's author: who runs attempt N, until when. */
export const AssignmentSchema = z.strictObject({
  task: ActionHashB64Schema,
  claim: ActionHashB64Schema,
  assignee: AgentPubKeyB64Schema,
  attempt: int(LIMITS.assignment.attempt),
  lease_expires_at: TimestampSchema,
})
export type Assignment = z.infer<typeof AssignmentSchema>

export const ResultStatusSchema = z.enum(['ok', 'error'])

export const ResultMetricsSchema = z
  .strictObject({
    started_at: TimestampSchema,
    finished_at: TimestampSchema,
    duration_ms: DurationMsSchema,
    tokens_in: int(R.tokens).nullable(),
    tokens_out: int(R.tokens).nullable(),
    tokens_per_second: num(R.tokens_per_second).nullable(),
  })
  .refine((m) => m.finished_at >= m.started_at, {
    message: 'finished_at must not be before started_at',
    path: ['finished_at'],
  })

/** Entry type `Result`: written only by the assignee of `assignment`; immutable. */
export const TaskResultSchema = z
  .strictObject({
    task: ActionHashB64Schema,
    assignment: ActionHashB64Schema,
    status: ResultStatusSchema,
    /** Inline JSON output (null when the output is at `output_cid`, or on error). */
    output: boundedJson(R.output_json_bytes),
    output_cid: CidSchema.nullable(),
    /** sha256 of the output bytes (the inline JSON's UTF-8, or the CID's content). */
    output_hash: Sha256HexSchema,
    error: text(R.error).nullable(),
    metrics: ResultMetricsSchema,
  })
  .refine((r) => r.output === null || r.output_cid === null, {
    message: 'output and output_cid are exclusive',
    path: ['output_cid'],
  })
  .refine((r) => r.status !== 'ok' || r.output !== null || r.output_cid !== null, {
    message: 'an ok result needs output or output_cid',
    path: ['output'],
  })
  .refine((r) => r.status !== 'error' || r.error !== null, {
    message: 'an error result needs an error message',
    path: ['error'],
  })
export type TaskResult = z.infer<typeof TaskResultSchema>

/** Written by the task's author: whether the result was accepted, and the usage to account. */
export const ReceiptSchema = z.strictObject({
  task: ActionHashB64Schema,
  result: ActionHashB64Schema,
  accepted: z.boolean(),
  reason: ReasonSchema,
  usage: z.strictObject({
    duration_ms: DurationMsSchema,
    tokens: int(R.tokens).nullable(),
    output_bytes: ByteCountSchema,
  }),
})
export type Receipt = z.infer<typeof ReceiptSchema>

/** Written by the task's author. */
export const CancellationSchema = z.strictObject({
  task: ActionHashB64Schema,
  reason: ReasonSchema,
})
export type Cancellation = z.infer<typeof CancellationSchema>

export const TASK_STATUSES = [
  'submitted',
  'claimed',
  'assigned',
  'running',
  'done',
  'failed',
  'expired',
  'cancelled',
] as const
export const TaskStatusSchema = z.enum(TASK_STATUSES)
export type TaskStatus = z.infer<typeof TaskStatusSchema>

export const TaskRecordSchema = entryRecord(TaskSchema)

/** The whole life of a task, with the status derived from it. */
export const TaskStateSchema = z.object({
  task: TaskRecordSchema,
  claims: z.array(entryRecord(ClaimSchema)),
  assignments: z.array(entryRecord(AssignmentSchema)),
  results: z.array(entryRecord(TaskResultSchema)),
  receipt: entryRecord(ReceiptSchema).nullable(),
  cancellation: entryRecord(CancellationSchema).nullable(),
  status: TaskStatusSchema,
})
export type TaskState = z.infer<typeof TaskStateSchema>

export const resourceMesh = {
  entryTypes: {
    Task: TaskSchema,
    Claim: ClaimSchema,
    Assignment: AssignmentSchema,
    Result: TaskResultSchema,
    Receipt: ReceiptSchema,
    Cancellation: CancellationSchema,
  },
  linkTypes: [
    'OpenTasks',
    'TaskToClaims',
    'TaskToAssignments',
    'TaskToResults',
    'TaskToReceipt',
    'TaskToCancellation',
    'AgentToAssignments',
  ],
  functions: {
    submit_task: { input: TaskSchema, output: RecordRefSchema },
    claim_task: { input: ClaimSchema, output: RecordRefSchema },
    assign_task: { input: AssignmentSchema, output: RecordRefSchema },
    post_result: { input: TaskResultSchema, output: RecordRefSchema },
    issue_receipt: { input: ReceiptSchema, output: RecordRefSchema },
    cancel_task: { input: CancellationSchema, output: RecordRefSchema },
    list_open_tasks: { input: NoInputSchema, output: z.array(TaskRecordSchema) },
    /** By the task's action hash; null when unknown. */
    get_task_state: { input: ActionHashB64Schema, output: TaskStateSchema.nullable() },
  },
} as const
