/**
 * What a flood of `admit/1.0.0` requests from a non-member costs its witness (issue 55, item 5): the
 * witness's CPU (process.cpuUsage over the flood), how many requests reached the walk of the geneses
 * held, and how much its record (`witnessed.jsonl`) grew, with the shipped limits and with none. The
 * handler is the daemon's, called in process (no libp2p), over a store of GENESES geneses walked as the
 * real one walks its chain heads; the flood is sent as fast as the handler answers.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadNetworkConfig } from '../host/config/network-config.ts'
import { encodeHashB64, holoHashFrom32 } from '../host/identity/hash.ts'
import { openAgentKey } from '../host/identity/keystore.ts'
import { peerIdOfAgent } from '../host/identity/peer-agent.ts'
import { ADMISSION_LIMITS, AdmissionLimiter } from '../host/membership/admission-limiter.ts'
import { encodeWire } from '../host/membership/admission-wire.ts'
import { admissionWitness } from '../host/membership/admission-witness.ts'
import { createInvite, networkIdHex } from '../host/membership/invite.ts'
import { privateMeshOf } from '../host/membership/private-mesh.ts'
import { WITNESSED_FILE, WitnessedRedemptions } from '../host/membership/witnessed-redemptions.ts'
import type { BenchReport } from './report.ts'

const FLOOD = 2_000
const GENESES = 5_000

const agent = (n: number) => {
  const bytes = new Uint8Array(32)
  new DataView(bytes.buffer).setUint32(0, n + 1)
  return encodeHashB64(holoHashFrom32(bytes, 'agent'))
}

const UNLIMITED = {
  perPeer: { burst: Number.MAX_SAFE_INTEGER, perSecond: 1 },
  total: { burst: Number.MAX_SAFE_INTEGER, perSecond: 1 },
  maxPeers: ADMISSION_LIMITS.maxPeers,
}

export default async function run(): Promise<BenchReport> {
  const rows: BenchReport['rows'] = []
  const figures: BenchReport['figures'] = {}
  for (const [limits, label] of [
    [ADMISSION_LIMITS, 'shipped limits'],
    [UNLIMITED, 'no limits'],
  ] as const) {
    for (const from of ['one peer', 'fresh peer ids'] as const) {
      const dir = await mkdtemp(join(tmpdir(), 'ripple-bench-admit-'))
      try {
        const admin = await openAgentKey(join(dir, 'admin'))
        const mesh = privateMeshOf(await loadNetworkConfig('local'), encodeHashB64(admin.agentPubKey))
        const held = Array.from({ length: GENESES }, (_, n) => ({ agent: agent(n), invite: n }))
        const used = createInvite(
          { network: mesh, role: 'member', expiresInMs: 3_600_000, witnessed: true },
          admin,
        )
        let walks = 0
        const handle = admissionWitness({
          networkId: networkIdHex(mesh),
          key: admin,
          agent: encodeHashB64(admin.agentPubKey),
          role: 'admin',
          heldRedemptions: (inviteId) => {
            walks += 1
            // As the store's walk: every genesis looked at, the one citing the invite kept.
            const cites = held.filter((h) => h.invite === 0).map((h) => h.agent)
            return inviteId === used.grant.invite_id ? cites : []
          },
          witnessed: await WitnessedRedemptions.open(dir),
          nowMs: () => Date.now(),
          limiter: new AdmissionLimiter(limits),
        })
        const request = encodeWire({ grant: used.grant, signature: used.signature })
        const peers = Array.from({ length: FLOOD }, (_, n) =>
          peerIdOfAgent(agent(from === 'one peer' ? GENESES + 1 : GENESES + 1 + n)),
        )
        const cpu = process.cpuUsage()
        const start = performance.now()
        await Promise.all(peers.map((peer) => handle(request, peer)))
        const wallMs = performance.now() - start
        const used_ = process.cpuUsage(cpu)
        const cpuMs = (used_.user + used_.system) / 1000
        const bytes = await stat(join(dir, WITNESSED_FILE)).then(
          (s) => s.size,
          () => 0,
        )
        rows.push({
          limits: label,
          from,
          requests: FLOOD,
          limited: handle.stats.limited,
          genesis_walks: walks,
          witness_cpu_ms: Number(cpuMs.toFixed(1)),
          wall_ms: Number(wallMs.toFixed(1)),
          record_bytes: bytes,
        })
        figures[
          `${label === 'no limits' ? 'unlimited' : 'limited'}_${from === 'one peer' ? 'one_peer' : 'fresh_ids'}_cpu_ms`
        ] = Number(cpuMs.toFixed(1))
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
  }
  return {
    name: 'admit-flood',
    rows,
    figures,
    note: `${FLOOD} admit/1.0.0 requests for a used invite from a non-member, handled in process over ${GENESES} geneses held; the witness's CPU by process.cpuUsage`,
  }
}
