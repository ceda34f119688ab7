/** agent_registry: who is in the mesh and what each peer can do. */
import { z } from 'zod'
import {
  ActionHashB64Schema,
  AgentPubKeyB64Schema,
  ByteCountSchema,
  entryRecord,
  int,
  LIMITS,
  line,
  list,
  ModelNameSchema,
  NoInputSchema,
  num,
  ReasonSchema,
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

/**
 * A member's listen addresses as it tells them in its heartbeats (multiaddr text, its own `/p2p/` id
 * left off): a peer that must dial it and whose peer store lost it dials these before walking the
 * directory (host/net/member-addresses.ts checks each parses and dials no other peer). Bounded: a few
 * transports, replaced at each heartbeat, never a history.
 */
export const MEMBER_ADDRS = { max: 8, length: 256 } as const
export const MemberAddrsSchema = list(z.string().min(1).max(MEMBER_ADDRS.length).startsWith('/'), {
  min: 0,
  max: MEMBER_ADDRS.max,
})

/**
 * Load report sent every few seconds as an ephemeral signal (never a chain entry). Read leniently, as
 * every gossip signal is: a field a newer release adds is dropped here, the known ones still checked,
 * so an older peer keeps hearing newer ones (entries, under the rules, stay exact).
 */
export const HeartbeatSchema = z.object({
  cpu_pct: num(LIMITS.heartbeat.pct),
  ram_pct: num(LIMITS.heartbeat.pct),
  gpu_pct: num(LIMITS.heartbeat.pct).nullable(),
  queue_depth: int(LIMITS.heartbeat.queue_depth),
  /** Requests the loaded models' engines can start now (their free slots); absent: no model loaded. */
  slots_free: int(LIMITS.heartbeat.queue_depth).optional(),
  /** Memory models may still take here (`--model-memory`, less what is loaded); what a split plans with. */
  model_free_bytes: ByteCountSchema.optional(),
  /** Memory its idle loaded models hold: a load there unloads the least recently used of them first. */
  model_evictable_bytes: ByteCountSchema.optional(),
  /** Models this peer heads split over peers: which peers hold how many layers (head first). */
  splits: list(
    z.object({
      model: ModelNameSchema,
      peers: list(
        z.object({
          agent: AgentPubKeyB64Schema,
          layers: int(LIMITS.heartbeat.queue_depth),
          bytes: ByteCountSchema,
        }),
        { min: 1, max: 64 },
      ),
    }),
    { min: 0, max: 16 },
  ).optional(),
  /**
   * Memory this peer holds for splits others head (counted out of model_free_bytes): a head planning
   * its split again adds back what it held here.
   */
  split_held: list(z.object({ head: AgentPubKeyB64Schema, model: ModelNameSchema, bytes: ByteCountSchema }), {
    min: 0,
    max: 64,
  }).optional(),
  /** The longest until this peer's next heartbeat (its idle pace; absent: the network's interval). */
  every_ms: int(LIMITS.duration_ms).optional(),
  /** Where this peer listens (MemberAddrsSchema); absent from a 0.2.0 peer's, and then nothing is known. */
  addrs: MemberAddrsSchema.optional(),
  /**
   * The action hash of this peer's capability as it stands (its latest update): a peer that does not
   * hold far members' capabilities (a sharded mesh) reads one again only when this names another.
   * Absent from a 0.2.0 peer's.
   */
  cap: ActionHashB64Schema.optional(),
  timestamp: TimestampSchema,
})
export type Heartbeat = z.infer<typeof HeartbeatSchema>
export type SplitHeld = NonNullable<Heartbeat['split_held']>[number]

/** Names one invite (16 random bytes, hex); an invite's grant carries it into its agent's genesis. */
export const InviteIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters')

/**
 * An admin withdraws an agent, or an invite not used yet (rules: revocation.*). Permanent: peers that
 * hold it drop the agent, refuse its ops authored from then on, and refuse agents joining with the invite.
 */
export const RevocationSchema = z
  .strictObject({
    agent: AgentPubKeyB64Schema.nullable(),
    invite_id: InviteIdSchema.nullable(),
    reason: ReasonSchema,
  })
  .refine((r) => (r.agent === null) !== (r.invite_id === null), {
    message: 'name exactly one of agent and invite_id',
    path: ['agent'],
  })
export type Revocation = z.infer<typeof RevocationSchema>

/**
 * An admin seals the invites of the 0.1.0 form (rules: legacy_seal.*), once every member reads the
 * witnessed form: it lists each use of such an invite it had seen, in the order it saw them, and from
 * then on a genesis on a legacy grant counts only if a seal lists its use (a genesis dated before the
 * real holder's gains nothing). Permanent; more than one when the uses pass what one holds.
 */
export const LegacySealSchema = z.strictObject({
  uses: list(
    z.strictObject({ invite_id: InviteIdSchema, agent: AgentPubKeyB64Schema }),
    LIMITS.legacy_seal.uses,
  ).refine(
    (uses) => new Set(uses.map((u) => `${u.invite_id}\n${u.agent}`)).size === uses.length,
    'each use once',
  ),
})
export type LegacySeal = z.infer<typeof LegacySealSchema>

export const NodeCapabilityRecordSchema = entryRecord(NodeCapabilitySchema)
export const RevocationRecordSchema = entryRecord(RevocationSchema)
export const LegacySealRecordSchema = entryRecord(LegacySealSchema)

export const agentRegistry = {
  entryTypes: {
    NodeCapability: NodeCapabilitySchema,
    Revocation: RevocationSchema,
    LegacySeal: LegacySealSchema,
  },
  linkTypes: ['AllNodes', 'AgentToCapability', 'TagToAgent', 'AllRevocations', 'AllLegacySeals'],
  functions: {
    /** Creates the agent's capability, or updates the one it already has. */
    advertise_capability: { input: NodeCapabilitySchema, output: RecordRefSchema },
    get_capability: { input: AgentPubKeyB64Schema, output: NodeCapabilityRecordSchema.nullable() },
    list_nodes: { input: NoInputSchema, output: z.array(NodeCapabilityRecordSchema) },
    find_nodes_by_tag: { input: TagSchema, output: z.array(NodeCapabilityRecordSchema) },
    /** Admins only (rules): writes a Revocation. */
    revoke: { input: RevocationSchema, output: RecordRefSchema },
    list_revocations: { input: NoInputSchema, output: z.array(RevocationRecordSchema) },
    /** Admins only (rules): writes a LegacySeal. */
    seal_legacy_invites: { input: LegacySealSchema, output: RecordRefSchema },
    list_legacy_seals: { input: NoInputSchema, output: z.array(LegacySealRecordSchema) },
  },
} as const
