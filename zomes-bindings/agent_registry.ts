/** agent_registry: who is in the mesh and what each peer can do. */
import { z } from 'zod'
import {
  AgentPubKeyB64Schema,
  ByteCountSchema,
  DnaHashB64Schema,
  entryRecord,
  int,
  LIMITS,
  line,
  list,
  ModelNameSchema,
  NoInputSchema,
  num,
  RecordRefSchema,
  Sha256HexSchema,
  TagSchema,
  TimestampSchema,
} from './common.ts'

const L = LIMITS.node_capability

export const CpuSchema = z.strictObject({
  model: line(L.cpu_model),
  cores: int(L.cpu_cores),
  /** At least `cores` (rule node_capability.hardware_cpu_threads_range). */
  threads: int(L.cpu_threads),
  arch: line(L.cpu_arch),
  speed_ghz: num(L.cpu_speed_ghz),
})

export const GpuSchema = z.strictObject({
  vendor: line(L.gpu_vendor),
  model: line(L.gpu_model),
  vram_bytes: ByteCountSchema,
})
export type Gpu = z.infer<typeof GpuSchema>

export const OsSchema = z.strictObject({
  platform: line(L.os_platform),
  distro: line(L.os_distro),
  release: line(L.os_release),
  kernel: line(L.os_kernel),
})

export const HardwareSchema = z.strictObject({
  cpu: CpuSchema,
  ram_bytes: int(L.ram_bytes),
  gpus: list(GpuSchema, L.gpus),
  disk_free_bytes: ByteCountSchema,
  os: OsSchema,
})
export type Hardware = z.infer<typeof HardwareSchema>

export const ModelInfoSchema = z.strictObject({
  name: ModelNameSchema,
  file_hash: Sha256HexSchema,
  size_bytes: ByteCountSchema,
  parameters: ByteCountSchema.nullable(),
  quantisation: line(L.model_quantisation).nullable(),
  context_length: int(L.model_context_length).nullable(),
  architecture: line(L.model_architecture).nullable(),
  loaded: z.boolean(),
})
export type ModelInfo = z.infer<typeof ModelInfoSchema>

export const InferenceSchema = z.strictObject({
  /** Model names are unique (rule node_capability.inference_models_unique). */
  models: list(ModelInfoSchema, L.models).refine(
    (models) => new Set(models.map((m) => m.name)).size === models.length,
    'model names must be unique',
  ),
  tokens_per_second: num(L.tokens_per_second).nullable(),
})

export const NodeCapabilitySchema = z.strictObject({
  name: line(L.name),
  hardware: HardwareSchema.refine((h) => h.cpu.threads >= h.cpu.cores, {
    message: 'cpu threads must be at least cpu cores',
    path: ['cpu', 'threads'],
  }),
  inference: InferenceSchema,
  storage: z.strictObject({ ipfs_free_bytes: ByteCountSchema, pinned_bytes: ByteCountSchema }),
  /** `capacity_bytes`: what the operator lets shards of the shared memory use here; 0 holds none. */
  memory: z.strictObject({ shards_held: int(L.shards_held), capacity_bytes: ByteCountSchema }),
  /** Unique (rule node_capability.tags_unique). */
  tags: list(TagSchema, L.tags).refine((tags) => new Set(tags).size === tags.length, 'tags must be unique'),
  host_version: line(L.host_version),
})
export type NodeCapability = z.infer<typeof NodeCapabilitySchema>

/** Load report sent every few seconds as an ephemeral signal (never a chain entry). */
export const HeartbeatSchema = z.strictObject({
  cpu_pct: num(LIMITS.heartbeat.pct),
  ram_pct: num(LIMITS.heartbeat.pct),
  gpu_pct: num(LIMITS.heartbeat.pct).nullable(),
  queue_depth: int(LIMITS.heartbeat.queue_depth),
  timestamp: TimestampSchema,
})
export type Heartbeat = z.infer<typeof HeartbeatSchema>

/**
 * Membrane proof of a network that requires invites: an admin signs (network, invitee, expiry).
 * Checked at genesis by the host (Ed25519 over the canonical JSON of the other fields), not by the rules wasm.
 */
export const InviteSchema = z.strictObject({
  network: DnaHashB64Schema,
  invitee: AgentPubKeyB64Schema,
  expires_at: TimestampSchema,
  admin: AgentPubKeyB64Schema,
  /** base64url Ed25519 signature (64 bytes). */
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'must be a base64url Ed25519 signature (86 characters)'),
})
export type Invite = z.infer<typeof InviteSchema>

export const NodeCapabilityRecordSchema = entryRecord(NodeCapabilitySchema)

export const agentRegistry = {
  entryTypes: { NodeCapability: NodeCapabilitySchema },
  linkTypes: ['AllNodes', 'AgentToCapability', 'TagToAgent'],
  functions: {
    /** Creates the agent's capability, or updates the one it already has. */
    advertise_capability: { input: NodeCapabilitySchema, output: RecordRefSchema },
    get_capability: { input: AgentPubKeyB64Schema, output: NodeCapabilityRecordSchema.nullable() },
    list_nodes: { input: NoInputSchema, output: z.array(NodeCapabilityRecordSchema) },
    find_nodes_by_tag: { input: TagSchema, output: z.array(NodeCapabilityRecordSchema) },
  },
} as const
