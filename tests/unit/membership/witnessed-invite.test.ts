import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  encodeMembraneProof,
  membraneRulesEntry,
} from '../../../host/conductor/embedded/validation/membrane-proof.ts'
import { loadNetworkConfig } from '../../../host/config/network-config.ts'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../../host/identity/keystore.ts'
import {
  type MembraneProof,
  signStatement,
  type WitnessStatement,
} from '../../../host/identity/membrane-grant.ts'
import { UNSTATED } from '../../../host/interface/release.ts'
import { createInvite, membraneProofOf, networkIdHex } from '../../../host/membership/invite.ts'
import { unwitnessedBecause } from '../../../host/membership/invite-service.ts'
import { privateMeshOf } from '../../../host/membership/private-mesh.ts'

let dir: string
let admin: AgentKey
let joiner: AgentKey
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-witnessed-'))
  admin = await openAgentKey(join(dir, 'admin'))
  joiner = await openAgentKey(join(dir, 'joiner'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('an invite is witnessed once every member reads it', () => {
  const versions = (old: string[]) => ({
    mesh: {
      everySpeaks: () => old.length === 0,
      of: (agent: string) =>
        old.includes(agent) ? UNSTATED : { release: '0.2.0', protocols: { admission: 2 } },
    },
    agents: () => ['new-peer', ...old],
  })

  it('says which peer runs 0.1.0, and that it should be upgraded', () => {
    expect(unwitnessedBecause(versions([]))).toBeNull()
    expect(unwitnessedBecause(versions(['X']))).toBe(
      "invites are judged by the joiner's clock while peer X runs Ripple 0.1.0: upgrade it",
    )
    expect(unwitnessedBecause(null)).toMatch(/cannot tell which releases/)
  })
})

describe('the host checks the witness statement’s signature', () => {
  it('accepts the witness’s own signature, refuses a statement altered after it', async () => {
    const mesh = privateMeshOf(await loadNetworkConfig('local'), encodeHashB64(admin.agentPubKey))
    const invite = createInvite(
      { network: mesh, role: 'worker', expiresInMs: 60_000, witnessed: true },
      admin,
    )
    expect(invite.grant.witnessed).toBe(true)
    const statement: WitnessStatement = {
      network_id: networkIdHex(mesh),
      invite_id: invite.grant.invite_id,
      agent: encodeHashB64(joiner.agentPubKey),
      witnessed_at: Date.now() * 1000,
      witness: encodeHashB64(admin.agentPubKey),
    }
    const proof: MembraneProof = {
      ...membraneProofOf(invite),
      witness: { statement, signature: signStatement(statement, admin) },
    }
    expect(membraneRulesEntry(encodeMembraneProof(proof), 1).proof).toEqual(proof)
    const backdated = {
      ...proof,
      witness: { ...proof.witness!, statement: { ...statement, witnessed_at: 0 } },
    }
    expect(() => membraneRulesEntry(encodeMembraneProof(backdated), 1)).toThrow(
      /witness statement of the membrane proof is not signed by its witness/,
    )
  })
})
