/**
 * The joiner's side of a witnessed invite: before its genesis is written, it asks the members it
 * reaches (`admit/1.0.0`) to witness the redemption, each against its own clock and record, and keeps
 * the first signed statement in the data dir (`admission.json`) to go into the genesis. A member's
 * refusal of the invite itself (expired, used, not yet valid) ends the wait with that reason; while no
 * member can answer, it keeps asking and says so. "Member" is what the answer shows: anyone with the
 * network key can answer, so a statement is taken, and a refusal ends the wait, only with proofs that
 * its witness is a member of this mesh (member-proof.ts); any other answer is said and not taken. The asking node is short-lived, with this agent's
 * key; the daemon's own node starts once the genesis can be written.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { z } from 'zod'
import { progenitorOf } from '../config/network-config.ts'
import type { NetworkConfig } from '../config/network-schema.ts'
import { encodeHashB64 } from '../identity/hash.ts'
import { type AgentKey, openAgentKey } from '../identity/keystore.ts'
import { type MembraneProof, type SignedWitness, witnessSigned } from '../identity/membrane-grant.ts'
import { agentOfPeerB64 } from '../identity/peer-agent.ts'
import type { Logger } from '../log/logger.ts'
import { createRippleNode } from '../net/create-node.ts'
import { peerKeyFromSeed } from '../net/peer-key.ts'
import { ISSUED_AT_SKEW_MS } from './admission-judge.ts'
import {
  ADMIT_PROTOCOL,
  AdmitAnswerSchema,
  decodeWire,
  encodeWire,
  type MemberProof,
  MemberProofsSchema,
  SignedWitnessSchema,
} from './admission-wire.ts'
import { networkIdHex } from './invite.ts'
import type { InviteGrant } from './invite-schema.ts'
import { type MeshOfProofs, memberProofFailure } from './member-proof.ts'
import type { ChosenMesh } from './private-mesh.ts'

/** The witness statement of this data dir's redemption. */
export const ADMISSION_FILE = 'admission.json'
/** Between rounds of asking the peers reached. */
const ROUND_MS = 1000

/** What `admission.json` keeps: the statement, and the proofs its witness sent that it is a member. */
const KeptAdmissionSchema = SignedWitnessSchema.extend({ member: MemberProofsSchema.optional() })
type KeptAdmission = z.infer<typeof KeptAdmissionSchema>

/** The redemption being witnessed: this agent's, of `grant`, on the mesh. */
interface Redemption {
  mesh: MeshOfProofs
  agent: string
  grant: InviteGrant
}

/** Thrown when a member refuses the invite itself: the reason is its, by its clock and record. */
export class AdmissionRefusedError extends Error {
  static override readonly name = 'AdmissionRefusedError'
  constructor(witness: string, why: string) {
    super(`the mesh refused this invite: member ${witness} says ${why}`)
    this.name = 'AdmissionRefusedError'
  }
}

export interface RedeemOptions {
  dataDir: string
  listen?: readonly string[]
  peers?: readonly string[]
  mdnsInterface?: string
  logger: Logger
  /** A line of progress for the person waiting (startup output). */
  onProgress?: (line: string) => void
  signal?: AbortSignal
}

/**
 * `mesh` with its proof witnessed where its grant asks for it: the statement kept from an earlier
 * start, or one a member gives now. Unchanged for a grant of the 0.1.0 form and for the mesh's admin.
 */
export async function witnessedMesh(mesh: ChosenMesh, options: RedeemOptions): Promise<ChosenMesh> {
  const proof = mesh.membraneProof
  if (proof === null || proof.grant.witnessed !== true || proof.witness !== undefined) return mesh
  const key = await openAgentKey(options.dataDir)
  const redemption: Redemption = {
    mesh: { networkId: networkIdHex(mesh.network), progenitor: progenitorOf(mesh.network) },
    agent: encodeHashB64(key.agentPubKey),
    grant: proof.grant as InviteGrant,
  }
  const kept = await keptAdmission(options, redemption)
  const admission = kept ?? (await askWitness(mesh.network, redemption, proof, key, options))
  if (admission !== kept) {
    await writeFile(join(options.dataDir, ADMISSION_FILE), `${JSON.stringify(admission, null, 2)}\n`, {
      mode: 0o600,
    })
  }
  const witness: SignedWitness = { statement: admission.statement, signature: admission.signature }
  return { ...mesh, membraneProof: { ...proof, witness } }
}

/**
 * The statement kept from an earlier start, checked again as when it was taken; one that fails is
 * dropped (said in the log and to the person waiting) and a member is asked anew, so a bad file never
 * holds a data dir. A statement kept by an earlier build, without its witness's proofs, is kept as it is.
 */
async function keptAdmission(options: RedeemOptions, r: Redemption): Promise<KeptAdmission | null> {
  const path = join(options.dataDir, ADMISSION_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  let json: unknown = null
  try {
    json = JSON.parse(text)
  } catch {}
  const parsed = KeptAdmissionSchema.safeParse(json)
  const kept = parsed.success ? parsed.data : null
  const why = kept === null ? 'it is not a witness statement' : statementFailure(r, kept, kept.member ?? null)
  if (why === null) return kept
  const line = `dropped the witness statement kept in ${path}: ${why}; asking a member again`
  options.logger.warn({ path, why }, line)
  options.onProgress?.(line)
  await rm(path, { force: true })
  return null
}

/**
 * Why `witness` cannot go into this redemption's genesis, or null when it can: it must be for this
 * network, invite and agent, signed by its witness, at a time the invite was valid, and by a witness
 * `member` shows a member (null: proofs not at hand, taken for an earlier build's kept statement).
 */
function statementFailure(
  r: Redemption,
  witness: SignedWitness,
  member: readonly MemberProof[] | null,
): string | null {
  const s = witness.statement
  if (s.agent !== r.agent || s.invite_id !== r.grant.invite_id)
    return 'its statement is not for this agent and invite'
  if (s.network_id !== r.mesh.networkId) return 'its statement is for another mesh'
  if (!witnessSigned(witness)) return 'its statement is not signed by its witness'
  if (
    s.witnessed_at > r.grant.expires_at * 1000 ||
    r.grant.issued_at > s.witnessed_at / 1000 + ISSUED_AT_SKEW_MS
  )
    return "its statement is dated outside the invite's validity"
  if (member === null) return null
  const failure = memberProofFailure(r.mesh, s.witness, member)
  return failure === null ? null : `its witness is not shown a member of this mesh (${failure})`
}

async function askWitness(
  network: NetworkConfig,
  r: Redemption,
  proof: MembraneProof,
  key: AgentKey,
  options: RedeemOptions,
): Promise<KeptAdmission> {
  const node = await createRippleNode({
    network,
    privateKey: await peerKeyFromSeed(key.exportSeed()),
    listen: options.listen ? [...options.listen] : undefined,
    peers: [...(options.peers ?? [])],
    mdnsInterface: options.mdnsInterface,
    logger: options.logger,
  })
  const invite = r.grant.invite_id
  const request = encodeWire({ grant: proof.grant, signature: proof.signature })
  /** Peers that asked to be asked again no sooner (busy), by peer id: when, ms. */
  const notBefore = new Map<string, number>()
  let told = ''
  const tell = (line: string) => {
    if (line !== told) options.onProgress?.(line)
    told = line
  }
  try {
    tell(
      `asking a member of the mesh to witness invite ${invite} (it judges expiry and use by its own clock)`,
    )
    for (;;) {
      options.signal?.throwIfAborted()
      // The progenitor first: a member by the network file itself.
      const peers = node.peers
        .list()
        .sort(
          (a, b) =>
            Number(agentOfPeerB64(b) === r.mesh.progenitor) - Number(agentOfPeerB64(a) === r.mesh.progenitor),
        )
      const why: string[] = []
      for (const peer of peers) {
        const name = agentOfPeerB64(peer) ?? peer.toString()
        if ((notBefore.get(peer.toString()) ?? 0) > Date.now()) continue
        const answer = await node.rpc
          .request(peer, ADMIT_PROTOCOL, request, {
            signal: options.signal,
            timeoutMs: 10_000,
            openToNetwork: true,
          })
          .then((bytes) => decodeWire(AdmitAnswerSchema, bytes) ?? 'not an admission answer')
          .catch((err: Error) => {
            options.signal?.throwIfAborted()
            return err.message
          })
        if (typeof answer === 'string') {
          why.push(`${name}: ${answer}`)
          continue
        }
        if (answer.kind === 'refused') {
          if (answer.retry_after_ms !== undefined)
            notBefore.set(peer.toString(), Date.now() + answer.retry_after_ms)
          if (!answer.final) {
            why.push(`${name}: ${answer.why}`)
            continue
          }
          // Only a member may end the wait: anyone with the network key can say "final".
          const notMember = memberProofFailure(r.mesh, name, answer.member)
          if (notMember === null) throw new AdmissionRefusedError(name, answer.why)
          why.push(
            `${name} refused the invite (${answer.why}) but is not shown a member (${notMember}); not taken`,
          )
          continue
        }
        const failure = statementFailure(r, answer.witness, answer.member ?? [])
        if (failure === null) {
          tell(`invite ${invite} witnessed by ${answer.witness.statement.witness}`)
          return { ...answer.witness, ...(answer.member ? { member: answer.member } : {}) }
        }
        why.push(`${name}: ${failure}; not taken`)
      }
      tell(
        peers.length === 0
          ? 'no peer of the mesh reached yet to witness the invite; still trying'
          : `no member reached can witness the invite yet (${why.join('; ')}); still trying`,
      )
      await sleep(ROUND_MS, options.signal)
    }
  } finally {
    await node.stop()
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
