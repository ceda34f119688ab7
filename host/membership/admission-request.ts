/**
 * The joiner's side of a witnessed invite: before its genesis is written, it asks the members it
 * reaches (`admit/1.0.0`) to witness the redemption, each against its own clock and record, and keeps
 * the first signed statement in the data dir (`admission.json`) to go into the genesis. A member's
 * refusal of the invite itself (expired, used, not yet valid) ends the wait with that reason; while no
 * member can answer, it keeps asking and says so. The asking node is short-lived, with this agent's
 * key; the daemon's own node starts once the genesis can be written.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { NetworkConfig } from '../config/network-schema.ts'
import { encodeHashB64 } from '../identity/hash.ts'
import { type AgentKey, openAgentKey } from '../identity/keystore.ts'
import { type MembraneProof, type SignedWitness, witnessSigned } from '../identity/membrane-grant.ts'
import { agentOfPeerB64 } from '../identity/peer-agent.ts'
import type { Logger } from '../log/logger.ts'
import { createRippleNode } from '../net/create-node.ts'
import { peerKeyFromSeed } from '../net/peer-key.ts'
import {
  ADMIT_PROTOCOL,
  AdmitAnswerSchema,
  decodeWire,
  encodeWire,
  SignedWitnessSchema,
} from './admission-wire.ts'
import type { ChosenMesh } from './private-mesh.ts'

/** The witness statement of this data dir's redemption. */
export const ADMISSION_FILE = 'admission.json'
/** Between rounds of asking the peers reached. */
const ROUND_MS = 1000

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
  const agent = encodeHashB64(key.agentPubKey)
  const kept = await readAdmission(options.dataDir)
  const fits = (w: SignedWitness | null): w is SignedWitness =>
    w !== null && w.statement.agent === agent && w.statement.invite_id === proof.grant.invite_id
  const witness = fits(kept) ? kept : await askWitness(mesh.network, proof, key, options)
  if (witness !== kept) {
    await writeFile(join(options.dataDir, ADMISSION_FILE), `${JSON.stringify(witness, null, 2)}\n`, {
      mode: 0o600,
    })
  }
  return { ...mesh, membraneProof: { ...proof, witness } }
}

async function readAdmission(dataDir: string): Promise<SignedWitness | null> {
  try {
    const parsed = SignedWitnessSchema.safeParse(
      JSON.parse(await readFile(join(dataDir, ADMISSION_FILE), 'utf8')),
    )
    return parsed.success && witnessSigned(parsed.data) ? parsed.data : null
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

async function askWitness(
  network: NetworkConfig,
  proof: MembraneProof,
  key: AgentKey,
  options: RedeemOptions,
): Promise<SignedWitness> {
  const agent = encodeHashB64(key.agentPubKey)
  const node = await createRippleNode({
    network,
    privateKey: await peerKeyFromSeed(key.exportSeed()),
    listen: options.listen ? [...options.listen] : undefined,
    peers: [...(options.peers ?? [])],
    mdnsInterface: options.mdnsInterface,
    logger: options.logger,
  })
  const invite = proof.grant.invite_id
  const request = encodeWire({ grant: proof.grant, signature: proof.signature })
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
      const peers = node.peers.list()
      const why: string[] = []
      for (const peer of peers) {
        const answer = await node.rpc
          .request(peer, ADMIT_PROTOCOL, request, {
            signal: options.signal,
            timeoutMs: 10_000,
            openToNetwork: true,
          })
          .then((bytes) => decodeWire(AdmitAnswerSchema, bytes))
          .catch((err: Error) => {
            options.signal?.throwIfAborted()
            why.push(`${peer}: ${err.message}`)
            return null
          })
        if (answer === null) continue
        if (answer.kind === 'refused') {
          if (answer.final)
            throw new AdmissionRefusedError(agentOfPeerB64(peer) ?? peer.toString(), answer.why)
          why.push(`${peer}: ${answer.why}`)
          continue
        }
        const { statement } = answer.witness
        if (statement.agent === agent && statement.invite_id === invite && witnessSigned(answer.witness)) {
          tell(`invite ${invite} witnessed by ${statement.witness}`)
          return answer.witness
        }
        why.push(`${peer}: its statement is not for this agent and invite`)
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
