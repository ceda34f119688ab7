import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadNetworkConfig } from '../../../host/config/network-config.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../../host/identity/keystore.ts'
import { signStatement } from '../../../host/identity/membrane-grant.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { ADMISSION_FILE, witnessedMesh } from '../../../host/membership/admission-request.ts'
import { createInvite, membraneProofOf, networkIdHex } from '../../../host/membership/invite.ts'
import { privateMeshOf } from '../../../host/membership/private-mesh.ts'

let dir: string
let admin: AgentKey
let joiner: AgentKey
let mesh: NetworkConfig
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-redeem-'))
  admin = await openAgentKey(join(dir, 'admin'))
  joiner = await openAgentKey(join(dir, 'joiner'))
  mesh = privateMeshOf(await loadNetworkConfig('local'), encodeHashB64(admin.agentPubKey))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const options = () => ({ dataDir: join(dir, 'joiner'), logger: silentLogger(), signal: AbortSignal.abort() })

describe('witnessedMesh: the proof a genesis is written with', () => {
  it('leaves a 0.1.0 invite and the admin as they are, asking nobody', async () => {
    const proof = membraneProofOf(createInvite({ network: mesh, role: 'worker', expiresInMs: 60_000 }, admin))
    for (const membraneProof of [proof, null]) {
      const chosen = { network: mesh, how: 'joined' as const, membraneProof }
      expect(await witnessedMesh(chosen, options())).toBe(chosen)
    }
  })

  it('takes the statement kept from an earlier start for this agent and invite, asking nobody', async () => {
    const invite = createInvite(
      { network: mesh, role: 'worker', expiresInMs: 60_000, witnessed: true },
      admin,
    )
    const statement = {
      network_id: networkIdHex(mesh),
      invite_id: invite.grant.invite_id,
      agent: encodeHashB64(joiner.agentPubKey),
      witnessed_at: Date.now() * 1000,
      witness: encodeHashB64(admin.agentPubKey),
    }
    const witness = { statement, signature: signStatement(statement, admin) }
    await writeFile(join(dir, 'joiner', ADMISSION_FILE), JSON.stringify(witness))
    const chosen = { network: mesh, how: 'kept' as const, membraneProof: membraneProofOf(invite) }
    // The signal is aborted: asking a member would throw, so the kept statement is what it used.
    expect((await witnessedMesh(chosen, options())).membraneProof).toEqual({
      ...membraneProofOf(invite),
      witness,
    })
    // A statement for another invite is not this one's: it asks (and here stops at the aborted signal).
    const other = createInvite({ network: mesh, role: 'worker', expiresInMs: 60_000, witnessed: true }, admin)
    const otherMesh = { ...chosen, membraneProof: membraneProofOf(other) }
    await expect(witnessedMesh(otherMesh, options())).rejects.toThrow(/aborted/)
  })
})
