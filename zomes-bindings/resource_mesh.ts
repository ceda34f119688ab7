/**
 * resource_mesh: tasks and their life (submitted, claimed, assigned, running, done/failed/expired/cancelled).
 * Its direct requests' batches are in resource_mesh_batches.ts; its entry and link types and zome
 * functions, in resource_mesh_zome.ts.
 */
import { z } from 'zod'
import {
  ActionHashB64Schema,
  AgentPubKeyB64Schema,
  ByteCountSchema,
  boundedJson,
  CidSchema,
  DottedIdSchema,
  type EntryRecord,
  entryRecord,
  int,
  LIMITS,
  list,
  ModelNameSchema,
  num,
  prose,
  ReasonSchema,
  Sha256HexSchema,
  TagSchema,
  TimestampSchema,
} from './common.ts'

const T = LIMITS.task
const C = LIMITS.claim
const R = LIMITS.result
const RC = LIMITS.receipt
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

/** Requirements any node meets: the starting point a caller overrides field by field. */
export const NO_REQUIREMENTS: Requirements = {
  min_ram_bytes: 0,
  min_vram_bytes: 0,
  gpu: false,
  min_cores: 0,
  model: null,
  tags: [],
}

/**
 * A task as the mesh sees it: what claimants need, and no input. The input stays with the requester (a
 * private `TaskPayload`) and reaches each assignee over a signal; the mesh holds its hash and size. One
 * above 2 MiB goes on IPFS sealed (`input_cid`), and its key record travels and is kept in its place.
 */
export const TaskSchema = z.strictObject({
  kind: DottedIdSchema(T.kind),
  /** `payloadHash` of the input, or with `input_cid` of its key record (cid, key, sha256 of the JSON). */
  input_hash: Sha256HexSchema,
  /** Size of the input's canonical JSON (or of the sealed bytes at `input_cid`). */
  input_bytes: ByteCountSchema,
  input_cid: CidSchema.nullable(),
  requirements: RequirementsSchema,
  lease_ms: int(T.lease_ms),
  deadline: TimestampSchema,
  max_attempts: int(T.max_attempts),
  fan_out: int(T.fan_out),
})
export type Task = z.infer<typeof TaskSchema>

/** A Task as its requester orders it: all but the input's hash, size and CID, which the host fills in. */
export const TaskOrderSchema = TaskSchema.omit({ input_hash: true, input_bytes: true, input_cid: true })

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

/**
 * Written only by the task's author: who runs attempt N of one slot, until when. A task with fan-out N
 * has slots 0..N-1, each an answer of its own with its own attempts (up to max_attempts).
 */
export const AssignmentSchema = z.strictObject({
  task: ActionHashB64Schema,
  claim: ActionHashB64Schema,
  assignee: AgentPubKeyB64Schema,
  slot: int(LIMITS.assignment.slot),
  attempt: int(LIMITS.assignment.attempt),
  lease_expires_at: TimestampSchema,
})
export type Assignment = z.infer<typeof AssignmentSchema>

/** The current attempt of each slot (its highest attempt), by slot. */
export function currentAssignments<A extends EntryRecord<Assignment>>(assignments: readonly A[]): A[] {
  const bySlot = new Map<number, A>()
  for (const a of assignments) {
    const held = bySlot.get(a.entry.slot)
    if (held === undefined || a.entry.attempt > held.entry.attempt) bySlot.set(a.entry.slot, a)
  }
  return [...bySlot.values()].sort((x, y) => x.entry.slot - y.entry.slot)
}

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

/**
 * Entry type `Result`: written only by the assignee of `assignment`; immutable. It holds no output: the
 * assignee gives the output to the requester over a signal before writing it (both keep it as a private
 * `TaskPayload`); one above 2 MiB goes on IPFS sealed (`output_cid`), and its key record goes instead.
 */
export const TaskResultSchema = z
  .strictObject({
    task: ActionHashB64Schema,
    assignment: ActionHashB64Schema,
    status: ResultStatusSchema,
    output_cid: CidSchema.nullable(),
    /** `payloadHash` of the output, or with `output_cid` of its key record; of '' on error. */
    output_hash: Sha256HexSchema,
    error: prose(R.error).nullable(),
    metrics: ResultMetricsSchema,
  })
  .refine((r) => r.status !== 'error' || r.error !== null, {
    message: 'an error result needs an error message',
    path: ['error'],
  })
export type TaskResult = z.infer<typeof TaskResultSchema>

/**
 * Entry type `TaskPayload` (private): a task's input or output (or the key to one sealed on IPFS) as one of
 * its two parties holds it, on its own chain only; the mesh sees the action and the hash naming it.
 */
export const TaskPayloadSchema = z.strictObject({
  /** `payloadHash(content)`: what the Task's input_hash or the Result's output_hash names. */
  hash: Sha256HexSchema,
  content: boundedJson(T.payload_json_bytes),
})
export type TaskPayload = z.infer<typeof TaskPayloadSchema>

/**
 * How one answer fared in the reduction by agreement: the result a slot ended with, who signed it,
 * with which model file, and whether it is in the group of the chosen result.
 */
export const VoteSchema = z.strictObject({
  result: ActionHashB64Schema,
  /** The result's author. */
  assignee: AgentPubKeyB64Schema,
  /** The model file that produced the answer, for inference outputs; null otherwise. */
  model_file_hash: Sha256HexSchema.nullable(),
  /** Answers that agree share a group (the winning group is 0); null for a result without an answer. */
  group: int(RC.group).nullable(),
  /** Cosine similarity to the chosen answer (floored at 0) for embeddings; null for other answers. */
  similarity: num(RC.similarity).nullable(),
  /** In the chosen result's group. */
  agree: z.boolean(),
})
export type Vote = z.infer<typeof VoteSchema>

/** What a requester accounts for one answer (summed over the voted results of a fanned-out task). */
const UsageSchema = z.strictObject({
  duration_ms: DurationMsSchema,
  tokens: int(R.tokens).nullable(),
  output_bytes: ByteCountSchema,
})

/**
 * Written by the task's author: the chosen result, whether it was accepted, every answer's vote (one
 * per slot that ended with a result), and the usage to account (summed over the voted results).
 */
export const ReceiptSchema = z
  .strictObject({
    task: ActionHashB64Schema,
    result: ActionHashB64Schema,
    accepted: z.boolean(),
    reason: ReasonSchema,
    usage: UsageSchema,
    votes: list(VoteSchema, RC.votes),
  })
  .refine((r) => new Set(r.votes.map((v) => v.result)).size === r.votes.length, {
    message: 'a result has one vote at most',
    path: ['votes'],
  })
  .refine((r) => r.votes.length === 0 || r.votes.some((v) => v.result === r.result), {
    message: 'the chosen result must have a vote',
    path: ['result'],
  })
  .refine(
    (r) => {
      const group = r.votes.find((v) => v.result === r.result)?.group ?? null
      return r.votes.every((v) => v.agree === (v.group !== null && v.group === group))
    },
    { message: "a vote agrees exactly when it is in the chosen result's group", path: ['votes'] },
  )
  .refine((r) => !r.accepted || r.votes.every((v) => v.result !== r.result || v.group !== null), {
    message: 'an accepted result must be an answer (its vote needs a group)',
    path: ['accepted'],
  })
export type Receipt = z.infer<typeof ReceiptSchema>

/**
 * Entry type `Answer`: the runner's signed result of an inference request routed straight to it (no
 * scheduling round, so no Task or Assignment before it). It names the request by its hash (over the
 * request and its requester), so the requester's `Served` record can cite it; immutable.
 */
export const AnswerSchema = z
  .strictObject({
    /** sha256 of the request as sent (`requestHash`): kind, model, input, requester and a nonce. */
    request: Sha256HexSchema,
    requester: AgentPubKeyB64Schema,
    kind: DottedIdSchema(T.kind),
    model: ModelNameSchema,
    /** The model file that produced it; null when the runner could not tell (it failed before). */
    model_file_hash: Sha256HexSchema.nullable(),
    status: ResultStatusSchema,
    /** The output as served; null on error, or when above the inline limit (the hash still names it). */
    output: boundedJson(R.output_json_bytes),
    /** sha256 of the output's canonical JSON (`outputHash`), whether or not it is inline. */
    output_hash: Sha256HexSchema,
    error: prose(R.error).nullable(),
    metrics: ResultMetricsSchema,
  })
  .refine((a) => a.status !== 'error' || a.error !== null, {
    message: 'an error answer needs an error message',
    path: ['error'],
  })
  .refine((a) => a.status !== 'error' || a.output === null, {
    message: 'an error answer has no output',
    path: ['output'],
  })
export type Answer = z.infer<typeof AnswerSchema>

/**
 * Entry type `Served`: the requester's record of a request it routed straight to a runner, the task
 * and its receipt in one: what was asked (by hash), who answered (the runner's signed `Answer`),
 * whether what it served matches that Answer, and the usage. Linked from an anchor by request hash,
 * which is what `x-ripple-task` names.
 */
export const ServedSchema = z.strictObject({
  request: Sha256HexSchema,
  kind: DottedIdSchema(T.kind),
  model: ModelNameSchema,
  answer: ActionHashB64Schema,
  runner: AgentPubKeyB64Schema,
  /** sha256 of the output the requester served (`outputHash`); accepted only when the Answer's is the same. */
  output_hash: Sha256HexSchema,
  accepted: z.boolean(),
  reason: ReasonSchema,
  usage: UsageSchema,
})
export type Served = z.infer<typeof ServedSchema>

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

type SlotStatus = 'assigned' | 'running' | 'failed' | 'waiting'

/**
 * The status of a task from its records at `now` (microseconds). A receipt or a cancellation is
 * final; otherwise the deadline ends it; otherwise the current attempt of each slot (one slot unless
 * the task fans out) says where it is: a live lease (assigned), a result posted and awaiting the
 * receipt (running), the last attempt failed or lost (failed), or waiting for its next assignment.
 * Any slot assigned makes the task assigned, else any running makes it running; it failed only when
 * every slot did; otherwise it waits (claimed or submitted).
 */
export function deriveTaskStatus(state: Omit<TaskState, 'status'>, now: number): TaskStatus {
  if (state.cancellation) return 'cancelled'
  if (state.receipt) {
    const result = state.results.find((r) => r.action_hash === state.receipt?.entry.result)
    return state.receipt.entry.accepted && result?.entry.status === 'ok' ? 'done' : 'failed'
  }
  const task = state.task.entry
  if (task.deadline < now) return 'expired'
  const slots = currentAssignments(state.assignments).map((current): SlotStatus => {
    const result = state.results.find((r) => r.entry.assignment === current.action_hash)
    const lastAttempt = current.entry.attempt >= task.max_attempts
    if (result) return result.entry.status === 'error' && lastAttempt ? 'failed' : 'running'
    if (current.entry.lease_expires_at >= now) return 'assigned'
    return lastAttempt ? 'failed' : 'waiting'
  })
  if (slots.includes('assigned')) return 'assigned'
  if (slots.includes('running')) return 'running'
  if (slots.length === task.fan_out && slots.every((s) => s === 'failed')) return 'failed'
  const assigned = new Set(state.assignments.map((a) => a.entry.assignee))
  return state.claims.some((c) => !assigned.has(c.author)) ? 'claimed' : 'submitted'
}
