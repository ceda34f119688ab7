/**
 * Which network `ripple up` joins. The `local` network is private by default: the first `ripple up` on a
 * data dir creates a mesh of its own (a fresh seed, a pre-shared key, and this agent as its admin) and
 * keeps it in `<data dir>/network.json` (0600: it holds the key), so strangers on the LAN cannot even
 * connect. Other machines join with an invite (`ripple up --join-file`), which writes the same file into
 * their data dir. `--open` keeps the shared, keyless `local` network of `networks/local.json` for demos.
 * Any other network file asks for the same with `"require_invite": true` (a testnet mesh by invite);
 * there the mesh has no pre-shared key when its peers meet through relays, which serve open networks
 * only: the invite, checked by the rules, is what keeps strangers out.
 */
import { randomBytes } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DNA_NAMES } from '../../zomes-bindings/index.ts'
import { InvalidNetworkConfigError, loadNetworkConfig } from '../config/network-config.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import { encodeHashB64 } from '../identity/hash.ts'
import { openAgentKey } from '../identity/keystore.ts'
import type { MembraneProof } from '../identity/membrane-grant.ts'
import { InvalidInviteError, membraneProofOf, networkIdHex, verifyInvite } from './invite.ts'
import { type Invite, InviteSchema } from './invite-schema.ts'

/** The mesh this data dir belongs to (private `local` meshes, and meshes joined by invite). */
export const MESH_FILE = 'network.json'
/** The invite this data dir joined with: its grant is this agent's proof of membership. */
export const INVITE_FILE = 'invite.json'

export interface MeshChoice {
  /** What `--network` named: `local` (the default) or another name or path. */
  requested: string
  /** The network file `requested` names (for `local`: the open template). */
  base: NetworkConfig
  dataDir: string
  /** `--open`: the shared keyless network, as before. */
  open: boolean
  /** The text of an invite (`--join-file`, standard input or RIPPLE_INVITE). */
  inviteText?: string
}

export interface ChosenMesh {
  network: NetworkConfig
  /** How it was chosen, for the start-up lines. */
  how: 'open' | 'file' | 'created' | 'kept' | 'joined'
  /** The invite this agent joined with, written into its genesis; null for the mesh's admin and open networks. */
  membraneProof: MembraneProof | null
}

/** The network to start on, creating or joining a private mesh in the data dir where that is asked. */
export async function chooseMesh(choice: MeshChoice): Promise<ChosenMesh> {
  const kept = await readMeshFile(choice.dataDir)
  if (choice.inviteText !== undefined) return joinMesh(choice.dataDir, verifyInvite(choice.inviteText), kept)
  const invitesOnly = choice.requested === 'local' || choice.base.require_invite === true
  if (!invitesOnly) return { network: choice.base, how: 'file', membraneProof: null }
  if (choice.open) {
    if (kept !== null) throw new InvalidNetworkConfigError(meshTakenMessage(choice.dataDir, kept, '--open'))
    return { network: choice.base, how: 'open', membraneProof: null }
  }
  if (kept !== null)
    return { network: kept, how: 'kept', membraneProof: await readJoinedProof(choice.dataDir) }
  return { network: await createMesh(choice.dataDir, choice.base), how: 'created', membraneProof: null }
}

/**
 * A private copy of `base`: a fresh seed, a fresh pre-shared key (none on a network that meets through
 * relays), and this agent as progenitor (admin) of every DNA, each of which admits other agents only
 * with an invite from it (the membrane proof).
 */
export function privateMeshOf(base: NetworkConfig, agent: string): NetworkConfig {
  const libp2p = base.libp2p ?? { listen: ['/ip4/0.0.0.0/tcp/0'], mdns: true, bootstrap: [] }
  const seed = `${base.name}-${randomBytes(16).toString('hex')}`
  const relayed = (base.libp2p?.relay_reservations ?? 0) > 0
  const membrane = { membrane: 'invite', progenitor: agent, network_id: networkIdHex({ ...base, seed }) }
  // The mesh is made: its file, used as it is (`--network <file>`), runs this mesh, not another new one.
  const { require_invite: _, ...made } = base
  return {
    ...made,
    seed,
    dna_properties: Object.fromEntries(
      DNA_NAMES.map((dna) => [dna, { ...base.dna_properties[dna], ...membrane }]),
    ),
    libp2p: { ...libp2p, psk: relayed ? null : randomBytes(32).toString('hex') },
  }
}

async function createMesh(dataDir: string, base: NetworkConfig): Promise<NetworkConfig> {
  const key = await openAgentKey(dataDir)
  const network = privateMeshOf(base, encodeHashB64(key.agentPubKey))
  await writeSecret(join(dataDir, MESH_FILE), network)
  return network
}

async function joinMesh(dataDir: string, invite: Invite, kept: NetworkConfig | null): Promise<ChosenMesh> {
  if (kept !== null && networkIdHex(kept) !== invite.grant.network_id) {
    throw new InvalidInviteError(meshTakenMessage(dataDir, kept, 'an invite to another mesh'))
  }
  await writeSecret(join(dataDir, MESH_FILE), invite.network)
  await writeSecret(join(dataDir, INVITE_FILE), invite)
  return { network: invite.network, how: 'joined', membraneProof: membraneProofOf(invite) }
}

/** The proof of a mesh joined earlier (none for the peer that created it). */
async function readJoinedProof(dataDir: string): Promise<MembraneProof | null> {
  const text = await readFile(join(dataDir, INVITE_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null
    throw err
  })
  // Checked when it was joined; only its expiry may have passed since, which the genesis already beat.
  return text === null ? null : membraneProofOf(InviteSchema.parse(JSON.parse(text)))
}

function meshTakenMessage(dataDir: string, kept: NetworkConfig, what: string): string {
  return (
    `data dir ${dataDir} already belongs to the private mesh ${kept.seed} (${join(dataDir, MESH_FILE)}); ` +
    `use another --data-dir for ${what}`
  )
}

async function readMeshFile(dataDir: string): Promise<NetworkConfig | null> {
  const path = join(dataDir, MESH_FILE)
  const exists = await stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false
      throw err
    },
  )
  return exists ? loadNetworkConfig(path) : null
}

/** Files with the pre-shared key are readable by their owner only. */
async function writeSecret(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 })
}
