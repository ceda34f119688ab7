/**
 * Issue 55, item 5: `admit/1.0.0` is open to anyone with the network key, so a flood of requests from a
 * non-member must cost its witness little. Counted, not timed: how many requests reached the walk of
 * the geneses held (the expensive check), how many the limiter refused, and whether the record grew.
 * The limiter's clock is frozen, so what it lets through is its burst exactly.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadNetworkConfig } from '../../../host/config/network-config.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { encodeHashB64, holoHashFrom32 } from '../../../host/identity/hash.ts'
import { type AgentKey, openAgentKey } from '../../../host/identity/keystore.ts'
import { peerIdOfAgent } from '../../../host/identity/peer-agent.ts'
import { ADMISSION_LIMITS, AdmissionLimiter } from '../../../host/membership/admission-limiter.ts'
import { AdmitAnswerSchema, decodeWire, encodeWire } from '../../../host/membership/admission-wire.ts'
import { admissionWitness } from '../../../host/membership/admission-witness.ts'
import { createInvite, networkIdHex } from '../../../host/membership/invite.ts'
import type { Invite } from '../../../host/membership/invite-schema.ts'
import { privateMeshOf } from '../../../host/membership/private-mesh.ts'
import { WITNESSED_FILE, WitnessedRedemptions } from '../../../host/membership/witnessed-redemptions.ts'

const HOUR = 3_600_000
const FLOOD = 2_000
let dir: string
let admin: AgentKey
let mesh: NetworkConfig
const agent = (n: number) => {
  const bytes = new Uint8Array(32)
  new DataView(bytes.buffer).setUint32(0, n + 1)
  return encodeHashB64(holoHashFrom32(bytes, 'agent'))
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-admit-flood-'))
  admin = await openAgentKey(join(dir, 'admin'))
  mesh = privateMeshOf(await loadNetworkConfig('local'), encodeHashB64(admin.agentPubKey))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

/** A witness on a frozen limiter clock, and a count of the genesis walks it made. */
async function witness() {
  const walks = { count: 0 }
  const handle = admissionWitness({
    networkId: networkIdHex(mesh),
    key: admin,
    agent: encodeHashB64(admin.agentPubKey),
    role: 'admin',
    heldRedemptions: () => {
      walks.count += 1
      return [agent(1_000_000)]
    },
    witnessed: await WitnessedRedemptions.open(dir),
    nowMs: () => Date.now(),
    limiter: new AdmissionLimiter(ADMISSION_LIMITS, () => 0),
  })
  const ask = async (from: string, invite: Invite) =>
    decodeWire(
      AdmitAnswerSchema,
      await handle(encodeWire({ grant: invite.grant, signature: invite.signature }), peerIdOfAgent(from)),
    )
  return { handle, ask, walks }
}

const recordSize = () =>
  stat(join(dir, WITNESSED_FILE)).then(
    (s) => s.size,
    () => 0,
  )

describe('a flood of admit requests from a non-member', () => {
  it(`${FLOOD} requests from one peer on a used invite: the burst reaches the genesis walk, the rest the limiter`, async () => {
    const { handle, ask, walks } = await witness()
    const used = createInvite({ network: mesh, role: 'member', expiresInMs: HOUR, witnessed: true }, admin)
    const answers = await Promise.all(Array.from({ length: FLOOD }, () => ask(agent(1), used)))
    const { burst } = ADMISSION_LIMITS.perPeer
    expect(handle.stats).toMatchObject({ requests: FLOOD, limited: FLOOD - burst, judgedUses: burst })
    expect(walks.count).toBe(burst)
    expect(answers.filter((a) => a?.kind === 'refused' && a.final)).toHaveLength(burst)
    const limited = answers.filter((a) => a?.kind === 'refused' && !a.final)
    expect(limited).toHaveLength(FLOOD - burst)
    expect(limited[0]).toMatchObject({
      why: expect.stringMatching(/too many admission requests from this peer; ask again in \d+ s/),
      retry_after_ms: expect.any(Number),
    })
    expect(await recordSize()).toBe(0)
  })

  it(`${FLOOD} requests from as many fresh peer ids: the total bucket bounds them`, async () => {
    const { handle, ask, walks } = await witness()
    const used = createInvite({ network: mesh, role: 'member', expiresInMs: HOUR, witnessed: true }, admin)
    await Promise.all(Array.from({ length: FLOOD }, (_, n) => ask(agent(n), used)))
    const { burst } = ADMISSION_LIMITS.total
    expect(handle.stats).toMatchObject({ limited: FLOOD - burst, judgedUses: burst, witnessed: 0 })
    expect(walks.count).toBe(burst)
    expect(await recordSize()).toBe(0)
  })

  it('an expired, a forged or a foreign invite is refused before any genesis walk', async () => {
    const { handle, ask, walks } = await witness()
    const expired = createInvite(
      { network: mesh, role: 'member', expiresInMs: 1, now: Date.now() - HOUR, witnessed: true },
      admin,
    )
    const fresh = createInvite({ network: mesh, role: 'member', expiresInMs: HOUR, witnessed: true }, admin)
    const forged = { ...fresh, grant: { ...fresh.grant, uses: 1000 } }
    const elsewhere = privateMeshOf(await loadNetworkConfig('local'), encodeHashB64(admin.agentPubKey))
    const foreign = createInvite(
      { network: elsewhere, role: 'member', expiresInMs: HOUR, witnessed: true },
      admin,
    )
    const answers = await Promise.all([expired, forged, foreign].map((invite, n) => ask(agent(n), invite)))
    expect(answers.map((a) => a?.kind === 'refused' && a.final)).toEqual([true, true, true])
    expect(answers.map((a) => (a?.kind === 'refused' ? a.why : ''))).toEqual([
      expect.stringMatching(/expired at/),
      expect.stringMatching(/not signed by its issuer/),
      expect.stringMatching(/for another mesh/),
    ])
    expect(walks.count).toBe(0)
    expect(handle.stats.judgedUses).toBe(0)
  })

  it('an agent already witnessed asking again is given the same statement, and nothing is written', async () => {
    const { handle, ask } = await witness()
    const invite = createInvite(
      { network: mesh, role: 'member', expiresInMs: HOUR, uses: 2, witnessed: true },
      admin,
    )
    const first = await ask(agent(7), invite)
    expect(first?.kind).toBe('witnessed')
    const size = await recordSize()
    expect(size).toBeGreaterThan(0)
    const again = await Promise.all(Array.from({ length: 4 }, () => ask(agent(7), invite)))
    expect(again).toEqual(Array.from({ length: 4 }, () => first))
    expect(handle.stats).toMatchObject({ witnessed: 1, repeated: 4 })
    expect(await recordSize()).toBe(size)
  })
})

describe('the record of witnessed redemptions', () => {
  it('is read as a stream: corrupt, cut and overlong lines are skipped, the rest counted', async () => {
    const good = (n: number) =>
      JSON.stringify({ invite_id: 'a'.repeat(32), agent: agent(n), witnessed_at: n })
    const lines = [good(1), '{"invite_id": 3', 'x'.repeat(100_000), good(2), '', 'null', good(3)]
    await writeFile(join(dir, WITNESSED_FILE), `${lines.join('\n')}\n${good(4).slice(0, 20)}`)
    const warnings: unknown[] = []
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as never
    const record = await WitnessedRedemptions.open(dir, { logger })
    expect([...record.agentsOf('a'.repeat(32))]).toEqual([agent(1), agent(2), agent(3)])
    expect(record.witnessedAt('a'.repeat(32), agent(2))).toBe(2)
    expect(warnings).toHaveLength(1)
    expect(JSON.stringify(warnings[0])).toMatch(
      /skipped 4 unreadable line\(s\) of witnessed.jsonl \(the first at line 2\)/,
    )
  })

  it('counts a redemption at once, and writes a burst of them in order', async () => {
    const record = await WitnessedRedemptions.open(dir)
    const writes = Array.from({ length: 50 }, (_, n) =>
      record.record({ invite_id: 'b'.repeat(32), agent: agent(n), witnessed_at: n }),
    )
    expect(record.agentsOf('b'.repeat(32)).size).toBe(50)
    await Promise.all(writes)
    const again = await WitnessedRedemptions.open(dir)
    expect([...again.agentsOf('b'.repeat(32))]).toEqual(Array.from({ length: 50 }, (_, n) => agent(n)))
  })

  it('forgets a redemption whose write failed, so its statement is not sent and nothing is counted', async () => {
    const gone = join(dir, 'gone')
    const record = await WitnessedRedemptions.open(gone)
    await expect(
      record.record({ invite_id: 'c'.repeat(32), agent: agent(1), witnessed_at: 1 }),
    ).rejects.toThrow(/ENOENT/)
    expect(record.agentsOf('c'.repeat(32)).size).toBe(0)
  })
})
