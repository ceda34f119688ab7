/**
 * Task inputs and outputs too large to travel as signals between a task's two parties go to IPFS; the scheduler
 * reaches IPFS only through this port (the daemon gives it one over its ArtifactService).
 */
import { type Artifact, LIMITS, type Task } from '../../zomes-bindings/index.ts'
import { payloadBytes } from './payload-hash.ts'
import type { PrivatePayloads } from './private-payloads.ts'

export interface PutPayload {
  cid: string
  size: number
  sha256: string
}

export interface TaskPayloads {
  /** Puts JSON text on IPFS, pinned here; nothing is registered yet. */
  put(json: string, signal?: AbortSignal): Promise<PutPayload>
  /** Registers put content as an Artifact with its provenance. */
  register(content: PutPayload, name: string, provenance: Artifact['provenance']): Promise<void>
  /** The JSON text at a CID, checked against its Artifact (sha256, size) and per block against the CID. */
  get(cid: string, signal?: AbortSignal): Promise<string>
}

/**
 * What a Task says of its input: its hash and size, the input kept private here (given to each
 * assignee by the requester); above a payload's limit (2 MiB), with IPFS, put on IPFS and registered as an
 * Artifact, the Task carrying its CID.
 */
export async function taskInputOf(
  input: unknown,
  kept: PrivatePayloads,
  payloads: TaskPayloads | undefined,
): Promise<Pick<Task, 'input_hash' | 'input_bytes' | 'input_cid'>> {
  const bytes = payloadBytes(input).length
  if (bytes <= LIMITS.task.payload_json_bytes.max || payloads === undefined) {
    return { input_hash: await kept.keep(input), input_bytes: bytes, input_cid: null }
  }
  const put = await payloads.put(JSON.stringify(input))
  await payloads.register(put, 'task-input.json', {
    task: null,
    result: null,
    input_cids: [],
    tool: 'ripple task submit',
    model: null,
  })
  return { input_hash: put.sha256, input_bytes: put.size, input_cid: put.cid }
}
