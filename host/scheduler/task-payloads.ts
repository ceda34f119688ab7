/**
 * Task inputs and outputs too large to travel as signals between a task's two parties go to IPFS,
 * sealed (./sealed-payload.ts): the key record is what the two parties exchange and keep privately,
 * and what the Task's input_hash or the Result's output_hash names. The scheduler reaches IPFS only
 * through the TaskPayloads port (the daemon gives it one over its ArtifactService).
 */
import { type Artifact, LIMITS, type Task } from '../../zomes-bindings/index.ts'
import { payloadBytes } from '../identity/payload-hash.ts'
import { parseWireJson } from '../interface/nesting-depth.ts'
import type { PrivatePayloads } from './private-payloads.ts'
import { salted } from './salted-payload.ts'
import { openSealed, type SealedKey, SealedKeySchema, seal } from './sealed-payload.ts'

export interface PutPayload {
  cid: string
  size: number
  sha256: string
}

export interface TaskPayloads {
  /** Puts bytes on IPFS, pinned here; nothing is registered yet. */
  put(bytes: Uint8Array, signal?: AbortSignal): Promise<PutPayload>
  /** Registers put content as an Artifact with its provenance. */
  register(content: PutPayload, name: string, provenance: Artifact['provenance']): Promise<void>
  /** The bytes at a CID, checked against its Artifact (sha256, size) and per block against the CID. */
  get(cid: string, signal?: AbortSignal): Promise<Uint8Array>
}

/** Seals `json` and puts it on IPFS; what was put, and the key record that opens it. */
export async function putSealed(
  payloads: TaskPayloads,
  json: string,
  signal?: AbortSignal,
): Promise<{ put: PutPayload; key: SealedKey }> {
  const sealed = seal(json)
  const put = await payloads.put(sealed.bytes, signal)
  return { put, key: { cid: put.cid, key: sealed.key, sha256: sealed.sha256 } }
}

/**
 * Fetches the payload sealed at `cid` and opens it with `key`, the key record given for it (checked: a
 * record for another CID is refused); its JSON parsed, and its size sealed.
 */
export async function getSealed(
  payloads: TaskPayloads,
  key: unknown,
  cid: string,
  signal?: AbortSignal,
): Promise<{ content: unknown; bytes: number }> {
  const record = SealedKeySchema.parse(key)
  if (record.cid !== cid) throw new Error(`the key given is for ${record.cid}, not ${cid}`)
  const sealed = await payloads.get(cid, signal)
  return { content: parseWireJson(openSealed(sealed, record), 'a task payload'), bytes: sealed.length }
}

/**
 * What a Task says of its input: its hash and size, the input kept private here (given to each
 * assignee by the requester); above a payload's limit (2 MiB), with IPFS, sealed on IPFS and registered
 * as an Artifact, the key record kept private instead, the Task carrying the CID. With a `salt`, what
 * is kept (and so hashed) is the input or key record in its salted envelope (salted-payload.ts).
 */
export async function taskInputOf(
  input: unknown,
  kept: PrivatePayloads,
  payloads: TaskPayloads | undefined,
  salt: string | null,
): Promise<Pick<Task, 'input_hash' | 'input_bytes' | 'input_cid'>> {
  const keep = (content: unknown) => kept.keep(salt === null ? content : salted(content, salt))
  const bytes = payloadBytes(input).length
  if (bytes <= LIMITS.task.payload_json_bytes.max || payloads === undefined) {
    return { input_hash: await keep(input), input_bytes: bytes, input_cid: null }
  }
  const { put, key } = await putSealed(payloads, JSON.stringify(input))
  await payloads.register(put, 'task-input.sealed', {
    task: null,
    result: null,
    input_cids: [],
    tool: 'ripple task submit',
    model: null,
  })
  return { input_hash: await keep(key), input_bytes: put.size, input_cid: put.cid }
}
