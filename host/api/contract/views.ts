/**
 * What the management API answers, as zod schemas built from the contract's entry schemas
 * (`zomes-bindings/`). Types declared by the modules that produce them (the scheduler's TaskView,
 * the registry's peers) are checked against these at compile time.
 */

import { z } from 'zod'
import {
  AgentPubKeyB64Schema,
  AnswerBatchSchema,
  ArtifactSchema,
  DecisionSchema,
  DNA_NAMES,
  entryRecord,
  HeartbeatSchema,
  NodeCapabilitySchema,
  PinCommitmentSchema,
  PolicySchema,
  ServedRecordSchema,
  TaskStateSchema,
  TaskStatusSchema,
} from '../../../zomes-bindings/index.ts'
import type { ArtifactView as ServiceArtifactView } from '../../artifacts/artifacts-port.ts'
import type { BackendStatus } from '../../inference/engine/engine-backends.ts'
import type { GgufModel } from '../../inference/gguf-scan.ts'
import type { ModelListing } from '../../inference/model-manager.ts'
import type { ProjectorPull } from '../../inference/projector-pull.ts'
import type { PeerEntry } from '../../interface/live-peers.ts'
import type { WarrantView } from '../../interface/network-port.ts'
import { PeerLinkSchema } from '../../interface/peer-link.ts'
import { ReleaseStatementSchema } from '../../interface/release.ts'
import { ProgressSchema } from '../../interface/run-event.ts'
import type { LeafCheck } from '../../requests/direct/served-leaf.ts'
import type { TaskEvent, TaskSummary, TaskView } from '../../scheduler/scheduler-service.ts'
import type { SplitView } from '../../split/splits-port.ts'
import { describes } from './same-shape.ts'

/** Every API error has this body, whatever the route or cause. */
export const ApiErrorBodySchema = z.object({
  error: z.object({ name: z.string(), message: z.string(), details: z.unknown().optional() }),
})
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>

export const WarrantViewSchema = describes<WarrantView>()(
  z.object({
    agent: z.string(),
    dna: z.enum(DNA_NAMES).nullable(),
    rule: z.string(),
    reason: z.string(),
    action_hash: z.string().nullable(),
    reported_by: z.string(),
    /** Microseconds since the Unix epoch. */
    timestamp: z.number(),
  }),
)

export const UnusableModelSchema = z.object({ path: z.string(), reason: z.string() })

/** The engine's backend: which one runs, and why each other one does not (the error, the fix). */
export const EngineStatusSchema = describes<BackendStatus>()(
  z.object({
    backend: z.string(),
    kind: z.enum(['cuda', 'vulkan', 'cpu']),
    summary: z.string(),
    backends: z.array(
      z.object({
        id: z.string(),
        kind: z.enum(['cuda', 'vulkan', 'cpu']),
        state: z.enum(['in use', 'standby', 'failed', 'not available']),
        detail: z.string().nullable(),
        fix: z.string().nullable(),
      }),
    ),
    engine_build: z.string(),
  }),
)

/** GET /api/status: who this peer is, where, and what it offers. */
export const StatusViewSchema = z.object({
  agent: AgentPubKeyB64Schema,
  network: z.string(),
  /** Hex sha256 of the network's name and seed: what peers compare on connect. */
  network_id: z.string(),
  /** The mesh's first admin (publishes policies, grants admin); null on an open network. */
  progenitor: z.string().nullable(),
  backend: z.enum(['embedded', 'holochain']),
  version: z.string(),
  pid: z.number().int(),
  data_dir: z.string(),
  models_dir: z.string(),
  uptime_ms: z.number(),
  /** Where this peer's libp2p node listens (for `--peer` on another machine). */
  multiaddrs: z.array(z.string()),
  /** Every warrant this host holds. */
  warrants: z.array(WarrantViewSchema),
  capability: NodeCapabilitySchema,
  /** Model files found but not advertised, with the reason. */
  unusable_models: z.array(UnusableModelSchema),
  /**
   * The models loaded here: since when each is idle and when its keep-alive unloads it (ms since the
   * epoch); its engine's slots, those of them held back beyond a member's share (`--held-back`), and
   * how many run.
   */
  loaded_models: z.array(
    z.object({
      name: z.string(),
      idle_since: z.number().nullable(),
      unloads_at: z.number().nullable(),
      slots: z.number().int().min(0),
      held_back: z.number().int().min(0),
      running: z.number().int().min(0),
    }),
  ),
  /** The inference engine's backend; null when the engine is not built. */
  engine: EngineStatusSchema.nullable(),
  /** The split worker's tensor cache: what it holds against its cap (`--rpc-cache-size`); null until first kept. */
  rpc_cache: z.object({ bytes: z.number(), cap_bytes: z.number() }).nullable(),
  /** Why the mesh refuses this peer (a used invite, a revocation), as its own store shows; null if nothing. */
  standing: z.string().nullable(),
  /** This peer's release and the version of each protocol it speaks (what its hello states). */
  release: ReleaseStatementSchema,
})
export type StatusView = z.infer<typeof StatusViewSchema>

/**
 * GET /api/session: what the caller signed in with. Always the token: API keys reach /v1 and /mcp only,
 * so a dashboard or script on the management API holds the token.
 */
export const SessionViewSchema = z.object({
  signed_in_with: z.literal('token'),
})
export type SessionView = z.infer<typeof SessionViewSchema>

const PeerEntrySchema = describes<PeerEntry>()(
  z.object({
    agent: z.string(),
    self: z.boolean(),
    status: z.enum(['online', 'stale', 'offline']),
    /** From the peer's capability entry; null until it is known here. */
    name: z.string().nullable(),
    capability: NodeCapabilitySchema.nullable(),
    /** The last load it reported, and how long ago that arrived. */
    load: HeartbeatSchema.nullable(),
    last_heartbeat_ms_ago: z.number().nullable(),
    /** A member on record whose capability this peer has not read (a sharded mesh reads it when it hears the member). */
    member: z.literal(true).optional(),
  }),
)

/**
 * A peer as the API shows it: the registry's view plus the warrant this host holds against it, and
 * how this host is connected to it (embedded backend; null when not connected).
 */
export const ApiPeerSchema = PeerEntrySchema.extend({
  warrant: WarrantViewSchema.nullable(),
  link: PeerLinkSchema.nullable().optional(),
  /** A revocation held here names it or its invite: its connections are refused, its later ops ignored. */
  revoked: z.boolean().optional(),
  /** The release and protocol versions it stated in its hello (0.1.0: it stated none); null: never met. */
  release: ReleaseStatementSchema.nullable().optional(),
})
export type ApiPeer = z.infer<typeof ApiPeerSchema>

/** GET /api/peers. */
/** A page of the peers (`?page=` from 1, `?limit=` per page): a big mesh is read page by page. */
export const PeersQuerySchema = z.object({
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})

export const PeersReplySchema = z.object({
  /** This page of the peers known here (self first, then online, stale, offline, by name). */
  peers: z.array(ApiPeerSchema),
  /** Every warrant this host holds, including against agents that never advertised a capability. */
  warrants: z.array(WarrantViewSchema),
  /** Members of the mesh as the record shows them (capabilities advertised, not revoked), this peer included. */
  members: z.number().int().min(0).optional(),
  /** Peers known here in all pages. */
  total: z.number().int().min(0).optional(),
  page: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).optional(),
})
export type PeersReply = z.infer<typeof PeersReplySchema>

/** A usable model file, as its header and hash describe it. */
export const GgufModelSchema = describes<GgufModel>()(
  z.object({
    /** The file name without `.gguf`: what requesters name when they route to a model. */
    name: z.string(),
    path: z.string(),
    size_bytes: z.number(),
    sha256: z.string(),
    architecture: z.string(),
    parameters: z.number(),
    quantisation: z.string().nullable(),
    context_length: z.number(),
    /** Memory each token of context takes in the KV cache (f16 keys and values, every block). */
    kv_bytes_per_token: z.number(),
    /** Repeating blocks (layers). */
    blocks: z.number(),
  }),
)

/** GET /api/models: usable models with their `loaded` flag, unusable files with the reason. */
/** A model split over peers: which ones, the share of the layers and the memory each holds. */
export const SplitViewSchema = describes<SplitView>()(
  z.object({
    model: z.string(),
    peers: z.array(z.object({ agent: z.string(), share: z.number(), layers: z.number(), bytes: z.number() })),
    bytes_carried: z.number(),
  }),
)

export const ModelsViewSchema = z.object({
  ...describes<ModelListing>()(
    z.object({
      models: z.array(
        GgufModelSchema.extend({
          loaded: z.boolean(),
          /** Loaded and idle since (ms since the epoch); null when not loaded or busy. */
          idle_since: z.number().nullable(),
          /** When its keep-alive runs out and it unloads (ms since the epoch); null: not loaded, busy or kept. */
          unloads_at: z.number().nullable(),
        }),
      ),
      unusable: z.array(UnusableModelSchema),
    }),
  ).shape,
  /** Models this peer heads split over peers (absent from a peer that heads none). */
  splits: z.array(SplitViewSchema).optional(),
})
export type ModelsView = z.infer<typeof ModelsViewSchema>

/** A model in memory, as a load answers it. */
export const ModelLoadedViewSchema = z.object({
  model: z.string(),
  file_hash: z.string(),
  load_ms: z.number(),
  context_size: z.number().int(),
  threads: z.number().int(),
})
export type ModelLoadedView = z.infer<typeof ModelLoadedViewSchema>

export const ModelUnloadedViewSchema = z.object({ model: z.string(), unloaded: z.boolean() })

/** The events of a model load streamed as server-sent events. */
export const ModelLoadEventSchemas = {
  progress: ProgressSchema,
  loaded: ModelLoadedViewSchema,
  error: ApiErrorBodySchema,
}

/** A pulled model, as POST /api/models/pull answers it. */
/** A pulled model, and its multimodal projector: its file, why it could not be had, or null (none named). */
export const ModelPulledViewSchema = z.object({
  model: GgufModelSchema,
  projector: describes<ProjectorPull>()(
    z.union([z.object({ file: z.string() }), z.object({ error: z.string() })]).nullable(),
  ),
})

/** The events of a model pull streamed as server-sent events. */
export const ModelPullEventSchemas = {
  progress: ProgressSchema,
  pulled: ModelPulledViewSchema,
  error: ApiErrorBodySchema,
}

/** GET /api/tasks/:hash: the whole life of a task. */
export const TaskViewSchema = describes<TaskView>()(
  z.object({
    /** The records, with `status` as this host knows it (`running` once the assignee said it started). */
    state: TaskStateSchema,
    /** For a task no node has claimed: why, as far as this host can tell. */
    why_unclaimed: z.string().nullable(),
    /** True when no peer will claim the task (none capable, or every capable one had its chance). */
    unclaimable: z.boolean(),
    /** Policy decisions recorded about this task, newest first. */
    decisions: z.array(entryRecord(DecisionSchema)),
    /** Its input and its results' outputs (by result) where this peer is one of the task's two parties. */
    payloads: z.object({ input: z.unknown(), outputs: z.record(z.string(), z.unknown()) }),
  }),
)

export const TaskSummarySchema = describes<TaskSummary>()(
  z.object({
    action_hash: z.string(),
    kind: z.string(),
    author: z.string(),
    status: TaskStatusSchema,
    submitted_at: z.number(),
    claims: z.number().int(),
    attempts: z.number().int(),
  }),
)

/** What GET /api/tasks/:hash/events streams: each status change and attempt, and the runners' progress. */
export const TaskEventSchema = describes<TaskEvent>()(
  z.discriminatedUnion('type', [
    z.object({
      type: z.literal('status'),
      status: TaskStatusSchema,
      attempt: z.number().int().nullable(),
      assignee: z.string().nullable(),
    }),
    z.object({
      type: z.literal('progress'),
      assignee: z.string(),
      /** e.g. `{ type: 'token', data: 'text' }`, or a model's load (LoadProgressEventSchema). */
      progress: z.object({ type: z.string(), data: z.unknown() }),
    }),
    /** The task waits with no claim: why, and whether no peer will claim it (waiting longer won't help). */
    z.object({ type: z.literal('waiting'), reason: z.string(), unclaimable: z.boolean() }),
  ]),
)

/** A runner's progress event while it loads the task's model: the engine's Progress, as it is. */
export const LoadProgressEventSchema = z.object({
  type: z.literal('load'),
  data: z.object({ model: z.string(), progress: ProgressSchema }),
})

export const PolicyRecordSchema = entryRecord(PolicySchema)
export type PolicyRecord = z.infer<typeof PolicyRecordSchema>

export type { TaskEvent, TaskSummary, TaskView }

/** One heartbeat as the live feed keeps it (for the last minutes' load of each peer). */
export const LoadSampleSchema = HeartbeatSchema.pick({
  cpu_pct: true,
  ram_pct: true,
  gpu_pct: true,
  queue_depth: true,
  timestamp: true,
})
export type LoadSample = z.infer<typeof LoadSampleSchema>

/** An artifact and the peers that committed to keep it (live PinCommitments). */
export const ArtifactViewSchema = describes<ServiceArtifactView>()(
  z.object({
    artifact: entryRecord(ArtifactSchema),
    holders: z.array(entryRecord(PinCommitmentSchema)),
  }),
)
export type ArtifactView = z.infer<typeof ArtifactViewSchema>

/** The events of GET /api/events, the dashboard's one live stream: each a whole snapshot of its part. */
export const LiveEventSchemas = {
  /** The peers as GET /api/peers answers them, with each peer's load over the last minutes (oldest first). */
  peers: PeersReplySchema.extend({ history: z.record(z.string(), z.array(LoadSampleSchema)) }),
  /** The tasks as GET /api/tasks answers them; sent when any changed. */
  tasks: z.object({ tasks: z.array(TaskSummarySchema) }),
  /** This peer's models as GET /api/models answers them; sent when one is loaded or unloaded. */
  models: ModelsViewSchema,
  /** The artifacts as GET /api/artifacts answers them (with their holders); sent when any changed. */
  artifacts: z.object({ artifacts: z.array(ArtifactViewSchema) }),
}
export type LiveEvent = {
  [K in keyof typeof LiveEventSchemas]: { event: K; data: z.infer<(typeof LiveEventSchemas)[K]> }
}[keyof typeof LiveEventSchemas]

/** A leaf checked against a runner's public batch. */
export const LeafCheckSchema = describes<LeafCheck>()(z.object({ valid: z.boolean(), reason: z.string() }))

/**
 * A request as a peer that took part in it holds it (its own chain), each proof checked just now: as
 * runner, its leaf against its own batch; as requester, the runner's leaf against the runner's batch.
 */
export const ServedViewSchema = ServedRecordSchema.extend({
  checks: z.object({ answered: LeafCheckSchema.nullable(), served: LeafCheckSchema.nullable() }),
})
export type ServedView = z.infer<typeof ServedViewSchema>

/** A third peer's check of a leaf and its proof against the public batch it cites. */
export const LeafCheckViewSchema = LeafCheckSchema.extend({
  batch: entryRecord(AnswerBatchSchema).nullable(),
})
export type LeafCheckView = z.infer<typeof LeafCheckViewSchema>
