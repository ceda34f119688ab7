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
      return createInvite(
        {
          network: { ...network, libp2p: { ...network.libp2p, bootstrap } },
          role: body.role,
          expiresInMs: body.expires_in_ms,
          uses: body.uses,
        },
        await init.key(),
      )
    },

    revoke: (revocation: Revocation) => init.conductor.callZome('agent_registry', 'revoke', revocation),
  }
}
