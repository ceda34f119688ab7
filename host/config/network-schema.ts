/**
 * The shape of a network file (`networks/<name>.json`): which backend, what separates its DHT from every
 * other (name + seed), the DNA properties, heartbeat timing, and how peers find each other. Schemas
 * only: the API contract (and so the browser dashboard) imports them; loading the file is
 * `network-config.ts`.
 */
import { z } from 'zod'

export const HeartbeatConfigSchema = z.object({
  /** How often a peer broadcasts its load. */
  interval_ms: z.number().int().min(100).max(600_000),
  /** A peer is `stale` after this many intervals without a heartbeat. */
  stale_after_missed: z.number().int().min(1).max(100),
  /** A peer is `offline` after this long without a heartbeat. */
  offline_after_ms: z.number().int().min(200).max(86_400_000),
})

/** The mesh's record: how often cover is signed, and how many peers hold what grows with time. */
export const RecordConfigSchema = z.object({
  /**
   * How often every member signs its record of the requests it sent, whether it sent any or not (cover:
   * a bystander cannot tell who asked whom, README "The record"). Each slot costs each member two
   * actions that every peer stores; a request's record is signed by the end of its slot.
   */
  served_slot_ms: z.number().int().min(100).max(3_600_000).optional(),
  /**
   * How many peers are to hold each record that grows with time (batches, cover, tasks, artifact and
   * memory records): the members closest to its hash (docs/record.md, "Where records live"). A mesh of
   * this many members or fewer holds everything on every peer; membership, revocations and policies
   * are on every peer at any size. Past it, a peer stores the records it holds and reads the others
   * from their holders. Every member of a mesh names the same number. Default 8.
   */
  holders: z.number().int().min(1).max(1_000).optional(),
})

/** The served slot of a network file that names none. */
export const DEFAULT_SERVED_SLOT_MS = 60_000
/** The record holders of a network file that names none. */
export const DEFAULT_RECORD_HOLDERS = 8

export const Libp2pConfigSchema = z.object({
  listen: z.array(z.string()).min(1),
  /** Discover peers on the LAN by mDNS. */
  mdns: z.boolean(),
  /**
   * Multiaddrs dialled at start and kept connected (`--bootstrap` and `--peer` add more): peers to
   * learn others from, usually `ripple relay` nodes. A network without mDNS needs at least one.
   */
  bootstrap: z.array(z.string()),
  /**
   * How many relay slots (circuit relay v2 reservations) to hold, so peers behind NAT are reachable
   * through relays; 0 (the default) on a LAN.
   */
  relay_reservations: z.number().int().min(0).max(8).optional(),
  /**
   * Connections a peer holds at most, however large the mesh (default 64), and libp2p closes the least
   * valued past the cap. A peer dials 4 neighbours of its own whatever the cap and holds about 8 at
   * rest; the rest is room for runners dialled for requests and directory lookups. At least 32: a
   * lookup meets up to 20 peers of the key it looks for.
   */
  max_connections: z.number().int().min(32).max(10_000).optional(),
  /** Hex of a 32-byte pre-shared key (libp2p private network, net/private-network.ts); null for an open network. */
  psk: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'psk must be 64 hex characters (32 bytes)')
    .nullable(),
})

export const HolochainConfigSchema = z.object({
  bootstrap_url: z.string().url().nullable(),
  signal_url: z.string().url().nullable(),
  /** iroh relay (Holochain 0.6.1+); default: the conductor's. */
  relay_url: z.string().url().nullable().optional(),
  /** ws:// admin interface of a running conductor to drive; null or absent: start `holochain` here. */
  admin_url: z
    .string()
    .regex(/^wss?:\/\/[^\s]+$/, 'admin_url must be a ws:// or wss:// URL')
    .nullable()
    .optional(),
})

export const NetworkConfigSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'network name: lowercase letters, digits, _ and -'),
    /** Changes every DNA hash, so two networks with different seeds never share a DHT. */
    seed: z.string().min(1).max(128),
    backend: z.enum(['embedded', 'holochain']),
    /** Per-DNA properties (e.g. policy_store.progenitor, the admin key). */
    dna_properties: z.record(z.string(), z.record(z.string(), z.unknown())),
    heartbeat: HeartbeatConfigSchema,
    record: RecordConfigSchema.optional(),
    /**
     * Only invited agents join: the first `ripple up` on a data dir makes a mesh of this network with
     * its agent as admin (as a private `local` mesh), and others join with its invites. `local` does so
     * unless `--open`.
     */
    require_invite: z.boolean().optional(),
    libp2p: Libp2pConfigSchema.optional(),
    holochain: HolochainConfigSchema.optional(),
  })
  .refine((c) => c.backend !== 'embedded' || c.libp2p !== undefined, {
    message: 'an embedded network needs a libp2p section',
    path: ['libp2p'],
  })
  .refine((c) => c.backend !== 'holochain' || c.holochain !== undefined, {
    message: 'a holochain network needs a holochain section',
    path: ['holochain'],
  })

export type NetworkConfig = z.infer<typeof NetworkConfigSchema>
