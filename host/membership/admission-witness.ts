/**
 * A member's side of `admit/1.0.0`: judges a redemption against its own clock and record
 * (admission-judge.ts), and when it passes records it (witnessed-redemptions.ts) and answers its signed
 * statement, which the joiner puts in its genesis and every peer's rules check. Judging and counting
 * run with no await between them, so two joiners asking at once are counted one after the other.
 *
 * Open to any peer with the network key, so it is priced for that: each request first takes a token
 * from its peer's bucket and the witness's (admission-limiter.ts), then the free checks run, the
 * signature, and only then the walk of the geneses held; an agent already witnessed is given its
 * statement again, as first signed, with nothing written; refusals are logged at debug, with one info
 * line a minute counting them. Its answers carry its proofs of membership (member-proof.ts), which a
 * joiner needs before it takes a statement or a refusal.
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
import { AdmissionLimiter } from './admission-limiter.ts'
import {
  type AdmitAnswer,
  AdmitRequestSchema,
  decodeWire,
  encodeWire,
  type MemberProof,
} from './admission-wire.ts'
import type { WitnessedRedemptions } from './witnessed-redemptions.ts'

/** How often refusals are summed up in an info line (each one is logged at debug). */
const SUMMARY_MS = 60_000

export interface AdmissionWitnessInit {
  networkId: string
  /** This member's agent key (it signs the statements). */
  key: AgentKey
  agent: string
  role: WitnessView['role']
  /** The agents whose geneses held here cite `inviteId` (a walk of the geneses: asked last). */
  heldRedemptions(inviteId: string): Iterable<string>
  witnessed: WitnessedRedemptions
  /** This member's clock, ms. */
  nowMs(): number
  /** This member's proofs of membership, sent with its answers (none: the progenitor, or a test). */
  memberProofs?: () => MemberProof[]
  /** Default: the shipped limits on a monotonic clock. */
  limiter?: AdmissionLimiter
  logger?: Logger
}

/** What the witness did with the requests it was sent, by how far each got. */
export interface AdmissionWitnessStats {
  requests: number
  /** Refused by the limiter, before anything was read. */
  limited: number
  /** Reached the walk of the geneses held (the expensive check). */
  judgedUses: number
  /** Witnessed anew, and written. */
  witnessed: number
  /** Given again to an agent already witnessed, with nothing written. */
  repeated: number
  refused: number
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

export type AdmissionWitnessHandler = ((request: Uint8Array, peer: PeerId) => Promise<Uint8Array>) & {
  readonly stats: Readonly<AdmissionWitnessStats>
}

/** The request handler of `admit/1.0.0`, with counts of what it did. */
export function admissionWitness(init: AdmissionWitnessInit): AdmissionWitnessHandler {
  const stats: AdmissionWitnessStats = {
    requests: 0,
    limited: 0,
    judgedUses: 0,
    witnessed: 0,
    repeated: 0,
    refused: 0,
  }
  const limiter = init.limiter ?? new AdmissionLimiter()
  const summary = refusalSummary(init.logger)
  const handle = async (request: Uint8Array, peer: PeerId): Promise<Uint8Array> => {
    stats.requests += 1
    const limited = limiter.take(peer.toString())
    if (limited !== null) {
      stats.limited += 1
      summary.refused(true)
      return encodeWire({
        kind: 'refused',
        why: `${limited.why}; ask again in ${Math.ceil(limited.retryAfterMs / 1000)} s`,
        final: false,
        retry_after_ms: limited.retryAfterMs,
      } satisfies AdmitAnswer)
    }
    const answer = await witness(init, stats, request, peer).catch((err: unknown) => {
      init.logger?.warn({ err }, 'could not record a witnessed redemption')
      return { kind: 'refused', why: 'this member could not record the redemption', final: false } as const
    })
    if (answer.kind === 'refused') {
      stats.refused += 1
      summary.refused(false)
    }
    return encodeWire(withProofs(init, answer))
  }
  return Object.assign(handle, { stats })
}

async function witness(
  init: AdmissionWitnessInit,
  stats: AdmissionWitnessStats,
  request: Uint8Array,
  peer: PeerId,
): Promise<AdmitAnswer> {
  const agent = agentOfPeerB64(peer)
  const asked = decodeWire(AdmitRequestSchema, request)
  if (agent === null || asked === null) {
    return { kind: 'refused', why: 'not a redemption request from an agent', final: true }
  }
  await init.witnessed.ready
  const { grant } = asked
  const nowMs = init.nowMs()
  const judgement: Judgement = judgeRedemption(
    { grant, agent, signedByIssuer: () => grantSignedByIssuer(grant, asked.signature) },
    {
      networkId: init.networkId,
      role: init.role,
      nowMs,
      redeemedBy: () => {
        stats.judgedUses += 1
        return new Set([
          ...init.heldRedemptions(grant.invite_id),
          ...init.witnessed.agentsOf(grant.invite_id),
        ])
      },
    },
  )
  if (judgement !== null) {
    init.logger?.debug(
      { agent, invite: grant.invite_id, why: judgement.why },
      'refused to witness a redemption',
    )
    return { kind: 'refused', ...judgement }
  }
  const before = init.witnessed.witnessedAt(grant.invite_id, agent)
  const statement: WitnessStatement = {
    network_id: grant.network_id,
    invite_id: grant.invite_id,
    agent,
    // Asked again (its answer lost, or its start cut short): the same statement, nothing written.
    witnessed_at: before ?? nowMs * 1000,
    witness: init.agent,
  }
  if (before === undefined) {
    await init.witnessed.record({ invite_id: grant.invite_id, agent, witnessed_at: statement.witnessed_at })
    stats.witnessed += 1
    init.logger?.info({ agent, invite: grant.invite_id }, 'witnessed the redemption of an invite')
  } else {
    stats.repeated += 1
    init.logger?.debug({ agent, invite: grant.invite_id }, 'gave a witnessed redemption its statement again')
  }
  return { kind: 'witnessed', witness: { statement, signature: signStatement(statement, init.key) } }
}

/** A statement, or a refusal of the invite itself, with the proofs that show this peer a member. */
function withProofs(init: AdmissionWitnessInit, answer: AdmitAnswer): AdmitAnswer {
  if (answer.kind === 'refused' && !answer.final) return answer
  const member = init.memberProofs?.() ?? []
  return member.length === 0 ? answer : { ...answer, member }
}

/** Counts refusals and says so at info at most once a minute, each one being at debug only. */
function refusalSummary(logger: Logger | undefined) {
  let refused = 0
  let limited = 0
  let since = Date.now()
  return {
    refused(byLimiter: boolean) {
      refused += 1
      if (byLimiter) limited += 1
      const now = Date.now()
      if (now - since < SUMMARY_MS) return
      logger?.info(
        { refused, limited, seconds: Math.round((now - since) / 1000) },
        `refused ${refused} admission request(s) in the last ${Math.round((now - since) / 1000)} s (${limited} by its limits)`,
      )
      refused = 0
      limited = 0
      since = now
    },
  }
}
