/** resource_mesh's entry types, link types and zome functions (its entries: resource_mesh.ts and resource_mesh_batches.ts). */
import { z } from 'zod'
import {
  ActionHashB64Schema,
  entryRecord,
  NoInputSchema,
  RecordRefSchema,
  Sha256HexSchema,
  TimestampSchema,
} from './common.ts'
import {
  AnswerSchema,
  AssignmentSchema,
  CancellationSchema,
  ClaimSchema,
  ReceiptSchema,
  ServedSchema,
  TaskPayloadSchema,
  TaskRecordSchema,
  TaskResultSchema,
  TaskSchema,
  TaskStateSchema,
} from './resource_mesh.ts'
import {
  AnswerBatchSchema,
  AnswerLeavesSchema,
  AnswerWindowSchema,
  BatchRefSchema,
  ServedBatchSchema,
  ServedLeavesSchema,
  ServedRecordSchema,
  ServedWindowSchema,
} from './resource_mesh_batches.ts'

export const resourceMesh = {
  entryTypes: {
    Task: TaskSchema,
    Claim: ClaimSchema,
    Assignment: AssignmentSchema,
    Result: TaskResultSchema,
    Receipt: ReceiptSchema,
    Cancellation: CancellationSchema,
    // No longer written (direct requests are recorded in batches); kept so records of earlier versions stay valid.
    Answer: AnswerSchema,
    Served: ServedSchema,
    AnswerLeaves: AnswerLeavesSchema,
    AnswerBatch: AnswerBatchSchema,
    ServedLeaves: ServedLeavesSchema,
    ServedBatch: ServedBatchSchema,
    TaskPayload: TaskPayloadSchema,
  },
  /** Entries withheld from the mesh: on the author's own chain only (their actions travel, hash-only). */
  privateEntryTypes: ['AnswerLeaves', 'ServedLeaves', 'TaskPayload'],
  linkTypes: [
    'OpenTasks',
    'TaskToClaims',
    'TaskToAssignments',
    'TaskToResults',
    'TaskToReceipt',
    'TaskToCancellation',
    // No longer written (nothing read it: an assignee learns of its assignment from the task's link);
    // kept so links written by earlier versions stay valid.
    'AgentToAssignments',
    // Anchor -> Served, tagged with the request hash (what x-ripple-task names).
    'ServedRequests',
  ],
  functions: {
    submit_task: { input: TaskSchema, output: RecordRefSchema },
    claim_task: { input: ClaimSchema, output: RecordRefSchema },
    assign_task: { input: AssignmentSchema, output: RecordRefSchema },
    post_result: { input: TaskResultSchema, output: RecordRefSchema },
    issue_receipt: { input: ReceiptSchema, output: RecordRefSchema },
    cancel_task: { input: CancellationSchema, output: RecordRefSchema },
    list_open_tasks: { input: NoInputSchema, output: z.array(TaskRecordSchema) },
    /** The newest `limit` tasks ever opened, open or finished, newest first. */
    list_tasks: {
      input: z.strictObject({ limit: z.number().int().min(1).max(1000) }),
      output: z.array(TaskRecordSchema),
    },
    /** By the task's action hash; null when unknown. */
    get_task_state: { input: ActionHashB64Schema, output: TaskStateSchema.nullable() },
    /** A runner's window of direct answers: its leaves (private) and their root and totals (public). */
    post_answer_batch: { input: AnswerWindowSchema, output: BatchRefSchema },
    /** A requester's window of what it served, each with the runner's proof: likewise. */
    record_served_batch: { input: ServedWindowSchema, output: BatchRefSchema },
    /** What this peer holds of a request it ran or asked for (its own chain); null on any other peer. */
    get_served: { input: Sha256HexSchema, output: ServedRecordSchema.nullable() },
    /**
     * This agent's own windows of direct requests closed from `since` (microseconds) on, oldest first,
     * as each was written (its private leaves and its bounds): what its usage totals are rebuilt from.
     */
    list_own_windows: {
      input: TimestampSchema,
      output: z.object({ answered: z.array(AnswerWindowSchema), served: z.array(ServedWindowSchema) }),
    },
    /** A runner's public batch by its action hash (every peer holds them); null when unknown. */
    get_answer_batch: { input: ActionHashB64Schema, output: entryRecord(AnswerBatchSchema).nullable() },
    /** Keeps a task's input or output on this agent's own chain (private). */
    keep_payload: { input: TaskPayloadSchema, output: RecordRefSchema },
    /** A payload this agent kept, by its hash; null when it holds none (every other peer). */
    get_payload: { input: Sha256HexSchema, output: TaskPayloadSchema.nullable() },
  },
} as const
