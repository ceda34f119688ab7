/**
 * A member's side of `admit/1.0.0`: judges a redemption against its own clock and record
 * (admission-judge.ts), and when it passes records it (witnessed-redemptions.ts) and answers its signed
 * statement, which the joiner puts in its genesis and every peer's rules check. Judging and recording
 * run with no await between them, so two joiners asking at once are counted one after the other.
 */
import type { PeerId } from '@libp2p/interface'
import { progenitorOf } from '../config/network-config.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import type { AgentKey } from '../identity/keystore.ts'
import {
  grantSignedByIssuer,
  type MembraneProof,
  signStatement,
  type WitnessStatement,
} from '../identity/membrane-grant.ts'
import { agentOfPeerB64 } from '../identity/peer-agent.ts'
import type { Logger } from '../log/logger.ts'
import { type Judgement, judgeRedemption, type WitnessView } from './admission-judge.ts'
import { type AdmitAnswer, AdmitRequestSchema, decodeWire, encodeWire } from './admission-wire.ts'
import type { WitnessedRedemptions } from './witnessed-redemptions.ts'

export interface AdmissionWitnessInit {
  networkId: string
  /** This member's agent key (it signs the statements). */
  key: AgentKey
  agent: string
  role: WitnessView['role']
  /** The agents whose geneses held here cite `inviteId`. */
  heldRedemptions(inviteId: string): Iterable<string>
  witnessed: WitnessedRedemptions
  /** This member's clock, ms. */
  nowMs(): number
  logger?: Logger
}

/** `agent`'s role on `network`, joined with `proof`: the progenitor is an admin; null without invites. */
export function witnessRole(
  network: NetworkConfig,
  agent: string,
  proof: MembraneProof | null,
): WitnessView['role'] {
  const progenitor = progenitorOf(network)
  if (progenitor === null) return null
  if (progenitor === agent) return 'admin'
  const role = proof?.grant.role
  return role === 'admin' || role === 'member' || role === 'worker' ? role : null
}

/** The request handler of `admit/1.0.0`. */
export function admissionWitness(init: AdmissionWitnessInit) {
  return async (request: Uint8Array, peer: PeerId): Promise<Uint8Array> =>
    encodeWire(witness(init, request, peer))
}

function witness(init: AdmissionWitnessInit, request: Uint8Array, peer: PeerId): AdmitAnswer {
  const agent = agentOfPeerB64(peer)
  const asked = decodeWire(AdmitRequestSchema, request)
  if (agent === null || asked === null) {
    return { kind: 'refused', why: 'not a redemption request from an agent', final: true }
  }
  const { grant } = asked
  const nowMs = init.nowMs()
  const judgement: Judgement = judgeRedemption(
    { grant, agent, signedByIssuer: grantSignedByIssuer(grant, asked.signature) },
    {
      networkId: init.networkId,
      role: init.role,
      nowMs,
      redeemedBy: new Set([
        ...init.heldRedemptions(grant.invite_id),
        ...init.witnessed.agentsOf(grant.invite_id),
      ]),
    },
  )
  if (judgement !== null) {
    init.logger?.info(
      { agent, invite: grant.invite_id, why: judgement.why },
      'refused to witness a redemption',
    )
    return { kind: 'refused', ...judgement }
  }
  const statement: WitnessStatement = {
    network_id: grant.network_id,
    invite_id: grant.invite_id,
    agent,
    witnessed_at: nowMs * 1000,
    witness: init.agent,
  }
  init.witnessed.record({ invite_id: grant.invite_id, agent, witnessed_at: statement.witnessed_at })
  init.logger?.info({ agent, invite: grant.invite_id }, 'witnessed the redemption of an invite')
  return { kind: 'witnessed', witness: { statement, signature: signStatement(statement, init.key) } }
}
