/**
 * Whether an agent is a member of a mesh, as one with no store can tell (a joiner before its genesis):
 * from the membrane proofs the agent sends, checked as the rules check a witness (membrane.rs): the
 * progenitor (the network file names it) is one; any other agent shows a grant for this network, as
 * member or admin, signed by its issuer, who is the progenitor or shown an admin the same way; and where
 * its proof has a witness statement (a witnessed grant must), one that names this agent and this
 * invite, signed by a witness shown a member the same way. So a proof copied from another member's
 * genesis names that member, not the one sending it, and a statement for another network or from an
 * agent with no such proofs is not taken.
 *
 * What it cannot see: revocations, and which of two agents holding one 0.1.0 grant (no witness) came
 * first. Those the mesh's rules judge when the genesis arrives (and `ripple up` says when the mesh
 * refuses this peer).
 */
import { grantSignedByIssuer, witnessSigned } from '../identity/membrane-grant.ts'
import { ISSUED_AT_SKEW_MS } from './admission-judge.ts'
import { MAX_MEMBER_PROOFS, type MemberProof, MemberProofSchema } from './admission-wire.ts'

export interface MeshOfProofs {
  /** Hex network id. */
  networkId: string
  /** The progenitor's agent key (null on a mesh without invites). */
  progenitor: string | null
}

type Need = 'member' | 'admin'

/** Null when `proofs` show `agent` a member (or admin) of the mesh; otherwise why not, in words. */
export function memberProofFailure(
  mesh: MeshOfProofs,
  agent: string,
  proofs: readonly MemberProof[] | undefined,
): string | null {
  if (mesh.progenitor === null) return 'this mesh has no progenitor, so no members to witness'
  const byAgent = new Map((proofs ?? []).map((p) => [p.agent, p]))
  const path = new Set<string>()
  let budget = 2 * MAX_MEMBER_PROOFS

  const check = (who: string, need: Need): string | null => {
    if (who === mesh.progenitor) return null
    if (path.has(who) || --budget < 0) return `the proofs of ${who} go round in a circle or too far`
    const p = byAgent.get(who)
    if (p === undefined)
      return `${who} sent no proof that it is ${need === 'admin' ? 'an admin' : 'a member'}`
    const g = p.grant
    if (g.network_id !== mesh.networkId) return `${who}'s invite is for another mesh`
    const roles: readonly string[] = need === 'admin' ? ['admin'] : ['member', 'admin']
    if (!roles.includes(g.role)) return `${who} was invited as ${g.role}, not as ${roles.join(' or ')}`
    if (!grantSignedByIssuer(g, p.signature)) return `${who}'s invite is not signed by its issuer`
    path.add(who)
    try {
      const issuer = check(g.issuer, 'admin')
      if (issuer !== null) return `${who}'s invite was issued by ${g.issuer}, not shown an admin (${issuer})`
      if (p.witness === undefined) {
        return g.witnessed === true ? `${who}'s invite asks for a witness, and its proof has none` : null
      }
      const s = p.witness.statement
      if (
        !witnessSigned(p.witness) ||
        s.network_id !== mesh.networkId ||
        s.invite_id !== g.invite_id ||
        s.agent !== who ||
        s.witnessed_at > g.expires_at * 1000 ||
        g.issued_at > s.witnessed_at / 1000 + ISSUED_AT_SKEW_MS
      ) {
        return `the witness statement in ${who}'s proof is not for ${who}'s redemption of its invite`
      }
      const witness = check(s.witness, 'member')
      return witness === null ? null : `${who} was witnessed by ${s.witness}, not shown a member (${witness})`
    } finally {
      path.delete(who)
    }
  }
  return check(agent, 'member')
}

/**
 * The proofs a witness sends to show itself a member: its own genesis proof, then those of the issuers
 * and witnesses it names, back to the progenitor (as many as its store holds; at most MAX_MEMBER_PROOFS).
 * `proofOf` is an agent's genesis proof as this peer holds it (unknown: read from the store).
 */
export function memberProofChain(
  self: string,
  progenitor: string | null,
  proofOf: (agent: string) => unknown,
): MemberProof[] {
  const chain: MemberProof[] = []
  const queue = [self]
  const queued = new Set(queue)
  while (queue.length > 0 && chain.length < MAX_MEMBER_PROOFS) {
    const agent = queue.shift() as string
    const held = proofOf(agent)
    const parsed = MemberProofSchema.safeParse(
      typeof held === 'object' && held !== null ? { ...held, agent } : null,
    )
    if (!parsed.success) continue
    chain.push(parsed.data)
    for (const next of [parsed.data.grant.issuer, parsed.data.witness?.statement.witness]) {
      if (next === undefined || next === progenitor || queued.has(next)) continue
      queued.add(next)
      queue.push(next)
    }
  }
  return chain
}
