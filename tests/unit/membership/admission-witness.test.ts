import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { redeemedAt, usesBefore } from '../../../host/conductor/embedded/validation/membrane-proof.ts'
import { loadNetworkConfig } from '../../../host/config/network-config.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { encodeHashB64, holoHashFrom32 } from '../../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../../host/identity/keystore.ts'
import { witnessSigned } from '../../../host/identity/membrane-grant.ts'
import { peerIdOfAgent } from '../../../host/identity/peer-agent.ts'
import { AdmitAnswerSchema, decodeWire, encodeWire } from '../../../host/membership/admission-wire.ts'
import { type AdmissionWitnessInit, admissionWitness } from '../../../host/membership/admission-witness.ts'
import { createInvite, networkIdHex } from '../../../host/membership/invite.ts'
import type { Invite } from '../../../host/membership/invite-schema.ts'
import { privateMeshOf } from '../../../host/membership/private-mesh.ts'
import { WitnessedRedemptions } from '../../../host/membership/witnessed-redemptions.ts'

const HOUR = 3_600_000
const NOW = 1_763_700_000_000
let dir: string
let admin: AgentKey
let mesh: NetworkConfig
let invite: Invite
const agent = (n: number) => encodeHashB64(holoHashFrom32(new Uint8Array(32).fill(n), 'agent'))

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-witness-'))
  admin = await openAgentKey(join(dir, 'admin'))
  mesh = privateMeshOf(await loadNetworkConfig('local'), encodeHashB64(admin.agentPubKey))
  invite = createInvite(
    { network: mesh, role: 'worker', expiresInMs: HOUR, now: NOW, witnessed: true },
    admin,
  )
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

function witness(over: Partial<AdmissionWitnessInit> = {}) {
  const init: AdmissionWitnessInit = {
    networkId: networkIdHex(mesh),
    key: admin,
    agent: encodeHashB64(admin.agentPubKey),
    role: 'admin',
    heldRedemptions: () => [],
    witnessed: new WitnessedRedemptions(dir),
    nowMs: () => NOW + 1000,
    ...over,
  }
  const handle = admissionWitness(init)
  return async (asker: string, request: unknown = { grant: invite.grant, signature: invite.signature }) =>
    decodeWire(AdmitAnswerSchema, await handle(encodeWire(request), peerIdOfAgent(asker)))
}

describe('a member witnesses a redemption', () => {
  it('answers a statement signed by itself, for the asking agent, at its own time', async () => {
    const answer = await witness()(agent(1))
    expect(answer?.kind).toBe('witnessed')
    if (answer?.kind !== 'witnessed') return
    expect(answer.witness.statement).toEqual({
      network_id: networkIdHex(mesh),
      invite_id: invite.grant.invite_id,
      agent: agent(1),
      witnessed_at: (NOW + 1000) * 1000,
      witness: encodeHashB64(admin.agentPubKey),
    })
    expect(witnessSigned(answer.witness)).toBe(true)
    expect(
      witnessSigned({ ...answer.witness, statement: { ...answer.witness.statement, agent: agent(2) } }),
    ).toBe(false)
  })

  it('a burst of joiners on a one-use invite: the first is witnessed, the rest refused, across a restart', async () => {
    const ask = witness()
    const answers = await Promise.all([1, 2, 3].map((n) => ask(agent(n))))
    expect(answers.map((a) => a?.kind)).toEqual(['witnessed', 'refused', 'refused'])
    expect(answers[1]).toMatchObject({ final: true, why: expect.stringMatching(/was used already \(by /) })
    // The record is on disk: a restarted witness still counts it; the first agent may ask again.
    const restarted = witness({ witnessed: new WitnessedRedemptions(dir) })
    expect((await restarted(agent(4)))?.kind).toBe('refused')
    expect((await restarted(agent(1)))?.kind).toBe('witnessed')
  })

  it('counts the geneses it holds that cite the invite', async () => {
    const answer = await witness({ heldRedemptions: () => [agent(9)] })(agent(1))
    expect(answer).toMatchObject({ kind: 'refused', final: true, why: expect.stringContaining(agent(9)) })
  })

  it('judges expiry by its own clock, whatever the joiner’s says', async () => {
    const answer = await witness({ nowMs: () => NOW + HOUR + 1 })(agent(1))
    expect(answer).toMatchObject({ kind: 'refused', final: true, why: expect.stringMatching(/expired at/) })
  })

  it('a worker sends the joiner on to another member; a malformed or forged request is refused', async () => {
    expect(await witness({ role: 'worker' })(agent(1))).toMatchObject({ kind: 'refused', final: false })
    expect(await witness()(agent(1), { grant: invite.grant })).toMatchObject({ kind: 'refused', final: true })
    const forged = { grant: { ...invite.grant, uses: 5 }, signature: invite.signature }
    expect(await witness()(agent(1), forged)).toMatchObject({ why: expect.stringMatching(/not signed/) })
  })
})

describe('uses of one invite are ordered by the witness’s time', () => {
  const proofAt = (witnessedAt: number | null) =>
    witnessedAt === null
      ? { grant: {} }
      : { grant: {}, witness: { statement: { witnessed_at: witnessedAt } } }

  it('an earlier witnessed redemption wins, whatever the geneses say', () => {
    // B witnessed first, genesis now; C witnessed later, genesis backdated an hour.
    const uses = [
      { agent: 'B', at: redeemedAt(proofAt(2_000), 5_000) },
      { agent: 'C', at: redeemedAt(proofAt(3_000), 5_000 - HOUR * 1000) },
    ]
    expect(usesBefore(uses, 'B', uses[0]!.at)).toBe(0)
    expect(usesBefore(uses, 'C', uses[1]!.at)).toBe(1)
  })

  it('a 0.1.0 grant keeps the genesis time; a tie goes to the lesser agent key', () => {
    expect(redeemedAt(proofAt(null), 5_000)).toBe(5_000)
    const uses = [
      { agent: 'B', at: 1 },
      { agent: 'A', at: 1 },
    ]
    expect(usesBefore(uses, 'A', 1)).toBe(0)
    expect(usesBefore(uses, 'B', 1)).toBe(1)
  })
})
