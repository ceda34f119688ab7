/**
 * Issues invites to this peer's mesh: only its admins may (the progenitor, which a private `local` mesh
 * makes of its first peer, and agents invited as admin; peers check the issuer's own invite), and the
 * invite names this peer's current addresses as bootstrap peers, so the new machine finds it where
 * mDNS does not reach. Revocations are entries the rules admit from admins only, so this writes them
 * and the rules judge.
 */
import type { Revocation } from '../../zomes-bindings/index.ts'
import { progenitorOf } from '../config/network-config.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import type { AgentKey } from '../identity/keystore.ts'
import type { MembraneProof } from '../identity/membrane-grant.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { Failure } from '../interface/failure-kind.ts'
import type { MeshVersions } from '../interface/release.ts'
import type { Logger } from '../log/logger.ts'
import { createInvite } from './invite.ts'
import type { Invite, InviteRole } from './invite-schema.ts'

/** Thrown when this peer is not the mesh's admin (an open network has none). */
export class NotMeshAdminError extends Error {
  static override readonly name = 'NotMeshAdminError'
  readonly failureKind: Failure = 'forbidden'
  constructor(network: NetworkConfig) {
    super(
      progenitorOf(network) === null
        ? `network ${network.name} is open (no admin): nobody invites; start without --open for a private mesh`
        : `only an admin of this mesh (${progenitorOf(network)}, or an agent it invited as admin) can invite`,
    )
    this.name = 'NotMeshAdminError'
  }
}

export interface InviteServiceInit {
  network: NetworkConfig
  agent: string
  /** The invite this agent joined with (null for the progenitor, or on an open network). */
  membraneProof: MembraneProof | null
  key: () => Promise<AgentKey>
  multiaddrs: () => string[]
  conductor: ConductorPort
  /**
   * What the mesh's members speak, and the agents to name when one lags: an invite is witnessed once
   * every member reads a witnessed grant (admission 2). Null or unset where this peer cannot tell (a
   * Holochain backend, whose peers state none): invites keep the 0.1.0 form there.
   */
  versions?: { mesh: Pick<MeshVersions, 'everySpeaks' | 'of'>; agents: () => Iterable<string> } | null
  logger?: Logger
}

/** The protocol version of admission that reads a witnessed grant (release 0.2.0). */
export const WITNESSED_ADMISSION = 2

/**
 * Why an invite made now cannot be witnessed (in words, naming the peers to upgrade), or null when it
 * can: a 0.1.0 peer refuses a grant field it does not know, so the old form is written until every
 * member reads the new one.
 */
export function unwitnessedBecause(versions: InviteServiceInit['versions']): string | null {
  if (!versions) return "this peer cannot tell which releases the mesh's members run"
  if (versions.mesh.everySpeaks('admission', WITNESSED_ADMISSION)) return null
  return judgedByJoinerText(
    [...versions.agents()].filter(
      (agent) => (versions.mesh.of(agent)?.protocols.admission ?? 1) < WITNESSED_ADMISSION,
    ),
  )
}

/** The words for an invite of the 0.1.0 form, naming the peers (names or agents) that keep it so. */
export function judgedByJoinerText(oldPeers: readonly string[]): string {
  const who = oldPeers.length === 0 ? 'a member of the mesh' : `peer ${oldPeers.join(', ')}`
  return `invites are judged by the joiner's clock while ${who} runs Ripple 0.1.0: upgrade ${oldPeers.length === 1 ? 'it' : 'them'}`
}

export function inviteService(init: InviteServiceInit) {
  return {
    async create(body: { role: InviteRole; expires_in_ms: number; uses: number }): Promise<Invite> {
      const { network } = init
      const progenitor = progenitorOf(network)
      const admin =
        progenitor !== null && (progenitor === init.agent || init.membraneProof?.grant.role === 'admin')
      if (!admin || network.libp2p === undefined) throw new NotMeshAdminError(network)
      const bootstrap = [...new Set([...network.libp2p.bootstrap, ...init.multiaddrs()])]
      const unwitnessed = unwitnessedBecause(init.versions)
      if (unwitnessed !== null) init.logger?.warn(`an invite of the 0.1.0 form: ${unwitnessed}`)
      return createInvite(
        {
          network: { ...network, libp2p: { ...network.libp2p, bootstrap } },
          role: body.role,
          expiresInMs: body.expires_in_ms,
          uses: body.uses,
          witnessed: unwitnessed === null,
        },
        await init.key(),
      )
    },

    revoke: (revocation: Revocation) => init.conductor.callZome('agent_registry', 'revoke', revocation),
  }
}
