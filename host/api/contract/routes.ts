/**
 * Every route of the management API (`/api/...`): method, path, and the zod schemas of its params,
 * query, body and reply (and of the events it streams). The Fastify routes validate with these and
 * the typed client (`host/api/client/`) is built on them, so the two cannot disagree.
 */
import { z } from 'zod'
import {
  ActionHashB64Schema,
  ArtifactSchema,
  CidSchema,
  CollectionSchema,
  LeafProofSchema,
  PolicySchema,
  ReasonSchema,
  RecordRefSchema,
  RequirementsSchema,
  RevocationSchema,
  Sha256HexSchema,
  TaskSchema,
} from '../../../zomes-bindings/index.ts'
import { TASK_DEFAULTS } from '../../interface/task-defaults.ts'
import { ImportProfileSchema } from '../../ipfs/import-profile.ts'
import { INVITE_ROLES, InviteSchema, MAX_INVITE_USES } from '../../membership/invite-schema.ts'
import { MEMORY_LIMITS, MemoryDocSchema, MemoryQuerySchema } from '../../memory/memory-input.ts'
import {
  CollectionDetailSchema,
  CollectionViewSchema,
  QueryResultSchema,
  WriteResultSchema,
} from '../../memory/memory-views.ts'
import { AliasNameSchema } from '../../requests/model-aliases.ts'
import { AliasViewSchema, RemoveAliasBodySchema, SetAliasBodySchema } from './aliases.ts'
import { RunAnswerViewSchema, RunEventSchemas, RunRequestBodySchema } from './run-request.ts'
import { UsageQuerySchema, UsageViewSchema } from './usage.ts'
import {
  ArtifactViewSchema,
  LeafCheckViewSchema,
  LiveEventSchemas,
  ModelLoadEventSchemas,
  ModelLoadedViewSchema,
  ModelPullEventSchemas,
  ModelPulledViewSchema,
  ModelsViewSchema,
  ModelUnloadedViewSchema,
  PeersQuerySchema,
  PeersReplySchema,
  PolicyRecordSchema,
  ServedViewSchema,
  SessionViewSchema,
  StatusViewSchema,
  TaskEventSchema,
  TaskSummarySchema,
  TaskViewSchema,
} from './views.ts'

export interface RouteContract {
  method: 'GET' | 'POST'
  /** Fastify's pattern: `:name` segments are the params. */
  path: string
  params?: z.ZodType
  query?: z.ZodType
  body?: z.ZodType
  /** The JSON answer (for a streaming route, the answer when it does not stream). */
  reply: z.ZodType
  /** Server-sent events, by event name, for routes that stream. */
  events?: Record<string, z.ZodType>
}

const MAX_WAIT_MS = 60_000

export const SubmitTaskBodySchema = z.strictObject({
  kind: TaskSchema.shape.kind,
  /** Any JSON; above the inline limit it travels on IPFS and the Task carries its CID. */
  input: z.json(),
  /** Any of the Requirements fields; the rest default to "anything will do". */
  requirements: z.strictObject(RequirementsSchema.shape).partial().default({}),
  lease_ms: TaskSchema.shape.lease_ms.default(TASK_DEFAULTS.leaseMs),
  /** The deadline, from now. */
  timeout_ms: z
    .number()
    .int()
    .min(1000)
    .max(30 * 24 * 3600_000)
    .default(TASK_DEFAULTS.timeoutMs),
  max_attempts: TaskSchema.shape.max_attempts.default(TASK_DEFAULTS.maxAttempts),
  /** Peers that each answer; above 1 the answers are reduced by agreement. */
  fan_out: TaskSchema.shape.fan_out.default(TASK_DEFAULTS.fanOut),
})
export type SubmitTaskBody = z.input<typeof SubmitTaskBodySchema>

const CANCEL_REASON = 'cancelled by the requester'
export const CancelTaskBodySchema = z
  .strictObject({ reason: ReasonSchema.default(CANCEL_REASON) })
  .default({ reason: CANCEL_REASON })

export const PublishPolicyBodySchema = z.strictObject({
  id: PolicySchema.shape.id,
  text: PolicySchema.shape.text,
  description: PolicySchema.shape.description.optional(),
  /** Default: one above the latest version of this id. */
  version: PolicySchema.shape.version.optional(),
})
export type PublishPolicyBody = z.input<typeof PublishPolicyBodySchema>

/** A week at most: an invite carries the mesh's key, so it should not outlive its use by long. */
export const MAX_INVITE_MS = 7 * 24 * 3_600_000
/** A day, unless asked otherwise. */
export const DEFAULT_INVITE_MS = 24 * 3_600_000

export const CreateInviteBodySchema = z.strictObject({
  role: z.enum(INVITE_ROLES).default('member'),
  expires_in_ms: z.number().int().min(1).max(MAX_INVITE_MS).default(DEFAULT_INVITE_MS),
  /** How many machines it admits: one unless asked for more. */
  uses: z.number().int().min(1).max(MAX_INVITE_USES).default(1),
})
export type CreateInviteBody = z.input<typeof CreateInviteBodySchema>

export const PullModelBodySchema = z.strictObject({
  /** `hf:owner/repo/file.gguf`, `hf:owner/repo:quant` or an https URL. */
  source: z.string().min(4).max(2048),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'a sha256 is 64 hex digits')
    .optional(),
  size: z.number().int().min(1).optional(),
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, ".", "_" and "-"')
    .optional(),
})
export type PullModelBody = z.input<typeof PullModelBodySchema>
/** `POST /api/artifacts`: the bytes are the request body (application/octet-stream); the rest is the query. */
export const AddArtifactQuerySchema = z.strictObject({
  name: ArtifactSchema.shape.name,
  mime_type: ArtifactSchema.shape.mime_type.default('application/octet-stream'),
  replication: z.coerce.number().pipe(ArtifactSchema.shape.replication).default(1),
  profile: ImportProfileSchema.optional(),
})
export type AddArtifactQuery = Partial<z.output<typeof AddArtifactQuerySchema>> & { name: string }

const TaskParamsSchema = z.object({ hash: ActionHashB64Schema })
const ArtifactParamsSchema = z.object({ cid: CidSchema })

/** A collection; only the name is required (cosine, 8 shards, replication 2, no embedding model). */
export const CreateCollectionBodySchema = z.strictObject({
  ...CollectionSchema.shape,
  metric: CollectionSchema.shape.metric.default('cosine'),
  shard_count: CollectionSchema.shape.shard_count.default(8),
  replication: CollectionSchema.shape.replication.default(2),
  /** `none`: the collection takes vectors only. */
  embedding_model: CollectionSchema.shape.embedding_model.default('none'),
})
export type CreateCollectionBody = z.input<typeof CreateCollectionBodySchema>
export const UpsertBodySchema = z.strictObject({
  docs: z.array(MemoryDocSchema).min(1).max(MEMORY_LIMITS.batch),
})
export const DeleteDocsBodySchema = z.strictObject({
  ids: z.array(z.string().min(1).max(MEMORY_LIMITS.id)).min(1).max(MEMORY_LIMITS.batch),
})
const CollectionParamsSchema = z.object({ name: CollectionSchema.shape.name })
const ModelParamsSchema = z.object({ name: z.string() })

/** An OpenAPI document: what a client needs to read to find its routes. */
const OpenApiReplySchema = z.looseObject({
  openapi: z.string().startsWith('3.1.'),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.looseObject({ operationId: z.string() }))),
})

/** POST /api/session: a one-time login code (from the link `ripple up` prints). */
export const SessionBodySchema = z.strictObject({ code: z.string().min(1).max(128) })
const SessionReplySchema = z.object({ token: z.string() })

export const routes = {
  /** Trades a one-time login code for the API token; the one route without the token. */
  session: { method: 'POST', path: '/api/session', body: SessionBodySchema, reply: SessionReplySchema },
  /** What the caller signed in with (the token: an API key reaches /v1 and /mcp only). */
  whoAmI: { method: 'GET', path: '/api/session', reply: SessionViewSchema },
  /** This peer: its agent, network, release, backend, models, engine and how long it has run. */
  status: { method: 'GET', path: '/api/status', reply: StatusViewSchema },
  /** This API described as OpenAPI 3.1, built from this contract (docs/reference/api.md renders it). */
  openApi: { method: 'GET', path: '/api/openapi.json', reply: OpenApiReplySchema },
  /** The peers this one knows (from the record and the news it hears, no connection to each), a page at a time, and the count of members. */
  peers: { method: 'GET', path: '/api/peers', query: PeersQuerySchema, reply: PeersReplySchema },
  /** What this peer served and was served, from the leaves it signed, by member, key, model and hour. */
  usage: { method: 'GET', path: '/api/usage', query: UsageQuerySchema, reply: UsageViewSchema },
  /** Any zome function of the contract; the body is checked against the function's input schema. */
  callZome: {
    method: 'POST',
    path: '/api/zome/:dna/:fn',
    params: z.object({ dna: z.string(), fn: z.string() }),
    body: z.unknown(),
    reply: z.unknown(),
  },
  /** Answers once this peer holds the action (written here or received and verified), or when the time runs out. */
  waitForRecord: {
    method: 'GET',
    path: '/api/records/:hash/wait',
    params: z.object({ hash: ActionHashB64Schema }),
    query: z.object({ timeout_ms: z.coerce.number().int().min(0).max(MAX_WAIT_MS).default(10_000) }),
    reply: z.object({ stored: z.boolean(), waited_ms: z.number() }),
  },
  submitTask: { method: 'POST', path: '/api/tasks', body: SubmitTaskBodySchema, reply: RecordRefSchema },
  listTasks: { method: 'GET', path: '/api/tasks', reply: z.object({ tasks: z.array(TaskSummarySchema) }) },
  getTask: { method: 'GET', path: '/api/tasks/:hash', params: TaskParamsSchema, reply: TaskViewSchema },
  /** Runs generation or embeddings on the peers; streams its events (`RunEventSchemas`) and the answer. */
  runRequest: {
    method: 'POST',
    path: '/api/mesh/run',
    body: RunRequestBodySchema,
    reply: RunAnswerViewSchema,
    events: RunEventSchemas,
  },
  /**
   * A request routed straight to its runner (what `x-ripple-task` names for one): the requester's
   * Served record and the runner's signed Answer. Waits for a record this peer is still writing.
   */
  getServed: {
    method: 'GET',
    path: '/api/served/:request',
    params: z.object({ request: Sha256HexSchema }),
    reply: ServedViewSchema,
  },
  /** Checks a leaf and its proof (as a requester was given them) against the runner's public batch. */
  checkLeaf: {
    method: 'POST',
    path: '/api/served/check',
    body: LeafProofSchema,
    reply: LeafCheckViewSchema,
  },
  cancelTask: {
    method: 'POST',
    path: '/api/tasks/:hash/cancel',
    params: TaskParamsSchema,
    body: CancelTaskBodySchema,
    reply: RecordRefSchema,
  },
  /**
   * Streams the task's status, progress and waits until it ends, then its final view (`end`, the
   * last event), so a client following it needs no second request for its outcome.
   */
  taskEvents: {
    method: 'GET',
    path: '/api/tasks/:hash/events',
    params: TaskParamsSchema,
    reply: z.never(),
    events: {
      status: TaskEventSchema,
      progress: TaskEventSchema,
      waiting: TaskEventSchema,
      end: TaskViewSchema,
    },
  },
  listPolicies: {
    method: 'GET',
    path: '/api/policies',
    reply: z.object({ policies: z.array(PolicyRecordSchema) }),
  },
  publishPolicy: {
    method: 'POST',
    path: '/api/policies',
    body: PublishPolicyBodySchema,
    reply: RecordRefSchema,
  },
  listModels: { method: 'GET', path: '/api/models', reply: ModelsViewSchema },
  /** Streams `progress` while llama.cpp reads weights when asked with `accept: text/event-stream`. */
  loadModel: {
    method: 'POST',
    path: '/api/models/:name/load',
    params: ModelParamsSchema,
    /** `split=1`: split it over the mesh's peers when it fits on none (this peer heads it). */
    query: z.object({ split: z.coerce.number().int().min(0).max(1).default(0) }),
    reply: ModelLoadedViewSchema,
    events: ModelLoadEventSchemas,
  },
  /** The model aliases in force here (the mesh's and this peer's), each with the model it runs now. */
  listAliases: {
    method: 'GET',
    path: '/api/models/aliases',
    reply: z.object({ aliases: z.array(AliasViewSchema) }),
  },
  /** Sets or replaces an alias on this peer, or (`mesh`, admins only) for the whole mesh. */
  setAlias: { method: 'POST', path: '/api/models/aliases', body: SetAliasBodySchema, reply: AliasViewSchema },
  removeAlias: {
    method: 'POST',
    path: '/api/models/aliases/remove',
    body: RemoveAliasBodySchema,
    reply: z.object({ removed: AliasNameSchema, scope: z.enum(['mesh', 'peer']) }),
  },
  /** Streams `progress` (the bytes downloaded) when asked with `accept: text/event-stream`. */
  pullModel: {
    method: 'POST',
    path: '/api/models/pull',
    body: PullModelBodySchema,
    reply: ModelPulledViewSchema,
    events: ModelPullEventSchemas,
  },
  unloadModel: {
    method: 'POST',
    path: '/api/models/:name/unload',
    params: ModelParamsSchema,
    reply: ModelUnloadedViewSchema,
  },
  /** A signed invite to this peer's private mesh (its admins only); it carries the mesh's key. */
  createInvite: { method: 'POST', path: '/api/invites', body: CreateInviteBodySchema, reply: InviteSchema },
  /** Writes a Revocation of an agent or an unused invite (admins only, by the rules): every peer drops it. */
  revoke: { method: 'POST', path: '/api/revocations', body: RevocationSchema, reply: RecordRefSchema },
  /** The dashboard's live stream: peers (with recent load), tasks and models, pushed as they change. */
  liveEvents: { method: 'GET', path: '/api/events', reply: z.never(), events: LiveEventSchemas },
  /** Imports the streamed body into IPFS, pins it here and registers the Artifact. */
  addArtifact: {
    method: 'POST',
    path: '/api/artifacts',
    query: AddArtifactQuerySchema,
    reply: ArtifactViewSchema,
  },
  listArtifacts: {
    method: 'GET',
    path: '/api/artifacts',
    reply: z.object({ artifacts: z.array(ArtifactViewSchema) }),
  },
  showArtifact: {
    method: 'GET',
    path: '/api/artifacts/:cid',
    params: ArtifactParamsSchema,
    reply: ArtifactViewSchema,
  },
  /**
   * The bytes (application/octet-stream), streamed as they arrive; headers carry the artifact's
   * sha256 and size. Bytes that turn out not to match end the response with an error, not a clean end.
   */
  artifactContent: {
    method: 'GET',
    path: '/api/artifacts/:cid/content',
    params: ArtifactParamsSchema,
    reply: z.never(),
  },
  /** Fetches (checked), pins and commits this peer to keep it. */
  pinArtifact: {
    method: 'POST',
    path: '/api/artifacts/:cid/pin',
    params: ArtifactParamsSchema,
    reply: ArtifactViewSchema,
  },
  /** Releases this peer's commitment, unpins and collects the blocks nothing else needs. */
  unpinArtifact: {
    method: 'POST',
    path: '/api/artifacts/:cid/unpin',
    params: ArtifactParamsSchema,
    reply: ArtifactViewSchema,
  },
  createCollection: {
    method: 'POST',
    path: '/api/memory/collections',
    body: CreateCollectionBodySchema,
    reply: CollectionViewSchema,
  },
  listCollections: {
    method: 'GET',
    path: '/api/memory/collections',
    reply: z.object({ collections: z.array(CollectionViewSchema) }),
  },
  /** The collection and where each of its shards is (placement, announced holders, this peer's copy). */
  showCollection: {
    method: 'GET',
    path: '/api/memory/collections/:name',
    params: CollectionParamsSchema,
    reply: CollectionDetailSchema,
  },
  /** Vectors, or texts the collection's model embeds; every document is checked before any is written. */
  upsertDocs: {
    method: 'POST',
    path: '/api/memory/collections/:name/upsert',
    params: CollectionParamsSchema,
    body: UpsertBodySchema,
    reply: WriteResultSchema,
  },
  deleteDocs: {
    method: 'POST',
    path: '/api/memory/collections/:name/delete',
    params: CollectionParamsSchema,
    body: DeleteDocsBodySchema,
    reply: WriteResultSchema,
  },
  /** The k nearest documents over every shard, and which shards answered or are missing. */
  queryCollection: {
    method: 'POST',
    path: '/api/memory/collections/:name/query',
    params: CollectionParamsSchema,
    body: MemoryQuerySchema,
    reply: QueryResultSchema,
  },
} as const satisfies Record<string, RouteContract>

export type Routes = typeof routes
export type RouteName = keyof Routes
export type ReplyOf<R extends RouteName> = z.output<Routes[R]['reply']>
