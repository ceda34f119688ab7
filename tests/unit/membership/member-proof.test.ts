import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadNetworkConfig } from '../../../host/config/network-config.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../../host/identity/keystore.ts'
import { signStatement } from '../../../host/identity/membrane-grant.ts'
import type { MemberProof } from '../../../host/membership/admission-wire.ts'
import { createInvite, networkIdHex } from '../../../host/membership/invite.ts'
import type { InviteRole } from '../../../host/membership/invite-schema.ts'
import { memberProofChain, memberProofFailure } from '../../../host/membership/member-proof.ts'
import { privateMeshOf } from '../../../host/membership/private-mesh.ts'

let dir: string
let mesh: NetworkConfig
let other: NetworkConfig
const keys: Record<string, AgentKey> = {}
const id = (name: string) => encodeHashB64(keys[name]!.agentPubKey)
const HOUR = 3_600_000

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-member-proof-'))
  for (const name of ['admin', 'alice', 'bob', 'carol', 'eve'])
    keys[name] = await openAgentKey(join(dir, name))
  mesh = privateMeshOf(await loadNetworkConfig('local'), id('admin'))
  other = privateMeshOf(await loadNetworkConfig('local'), id('admin'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

/** `who`'s genesis proof: invited by `issuer` as `role`, witnessed by `witness` (none: a 0.1.0 grant). */
function proofOf(
  who: string,
  opts: { issuer?: string; role?: InviteRole; witness?: string | null; network?: NetworkConfig } = {},
): MemberProof {
  const network = opts.network ?? mesh
  const witnessed = opts.witness !== null
  const invite = createInvite(
    { network, role: opts.role ?? 'member', expiresInMs: HOUR, witnessed },
    keys[opts.issuer ?? 'admin']!,
  )
  const proof: MemberProof = { agent: id(who), grant: invite.grant, signature: invite.signature }
  if (!witnessed) return proof
  const statement = {
    network_id: networkIdHex(network),
    invite_id: invite.grant.invite_id,
    agent: id(who),
    witnessed_at: Date.now() * 1000,
    witness: id(opts.witness ?? 'admin'),
  }
  return {
    ...proof,
    witness: { statement, signature: signStatement(statement, keys[opts.witness ?? 'admin']!) },
  }
}

const failure = (agent: string, proofs: MemberProof[]) =>
  memberProofFailure({ networkId: networkIdHex(mesh), progenitor: id('admin') }, agent, proofs)

describe('memberProofFailure: a member as a joiner with no store can tell', () => {
  it('the progenitor needs no proof; a member shows its own, back to the progenitor', () => {
    expect(failure(id('admin'), [])).toBeNull()
    expect(failure(id('alice'), [proofOf('alice')])).toBeNull()
    // bob was witnessed by alice: alice's proof comes with his.
    const bob = proofOf('bob', { witness: 'alice' })
    expect(failure(id('bob'), [bob, proofOf('alice')])).toBeNull()
    expect(failure(id('bob'), [bob])).toMatch(/witnessed by .* not shown a member .* sent no proof/)
    // A 0.1.0 grant has no witness: judged as the rules judge it.
    expect(failure(id('carol'), [proofOf('carol', { witness: null })])).toBeNull()
    // An admin invited by the progenitor may issue; its proof comes along.
    const carol = proofOf('carol', { issuer: 'alice' })
    expect(failure(id('carol'), [carol, proofOf('alice', { role: 'admin' })])).toBeNull()
  })

  it.each<[string, () => [string, MemberProof[]], RegExp]>([
    ['no proof at all', () => [id('eve'), []], /sent no proof that it is a member/],
    ['a worker', () => [id('eve'), [proofOf('eve', { role: 'worker' })]], /invited as worker/],
    [
      'a proof for another mesh',
      () => [id('eve'), [proofOf('eve', { network: other })]],
      /invite is for another mesh/,
    ],
    [
      "a member's proof copied under another agent",
      () => [id('eve'), [{ ...proofOf('alice'), agent: id('eve') }]],
      /statement in .* proof is not for .* redemption/,
    ],
    [
      'a grant altered after signing',
      () => {
        const p = proofOf('eve', { role: 'worker' })
        return [id('eve'), [{ ...p, grant: { ...p.grant, role: 'member' } }]]
      },
      /not signed by its issuer/,
    ],
    [
      'an invite issued by a mere member',
      () => [id('eve'), [proofOf('eve', { issuer: 'alice' }), proofOf('alice')]],
      /not shown an admin .* invited as member, not as admin/,
    ],
    [
      'two agents witnessing each other',
      () => [id('eve'), [proofOf('eve', { witness: 'bob' }), proofOf('bob', { witness: 'eve' })]],
      /go round in a circle/,
    ],
    [
      'a witnessed grant with its statement removed',
      () => {
        const { witness: _, ...bare } = proofOf('eve')
        return [id('eve'), [bare]]
      },
      /asks for a witness, and its proof has none/,
    ],
  ])('refuses %s', (_, make, why) => {
    const [agent, proofs] = make()
    expect(failure(agent, proofs)).toMatch(why)
  })
})

describe('memberProofChain: what a witness sends', () => {
  it('its own proof, then those of the witnesses and admins it names, none of the progenitor', () => {
    const held = new Map<string, MemberProof>([
      [id('alice'), proofOf('alice', { role: 'admin' })],
      [id('bob'), proofOf('bob', { witness: 'alice', issuer: 'alice' })],
    ])
    const lookup = (agent: string) => {
      const p = held.get(agent)
      if (p === undefined) return undefined
      const { agent: _, ...proof } = p
      return proof
    }
    const chain = memberProofChain(id('bob'), id('admin'), lookup)
    expect(chain.map((p) => p.agent)).toEqual([id('bob'), id('alice')])
    expect(failure(id('bob'), chain)).toBeNull()
    // A proof its store lacks is left out: the joiner then says which one is missing.
    expect(memberProofChain(id('carol'), id('admin'), lookup)).toEqual([])
  })
})
