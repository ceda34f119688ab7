/**
 * Task inputs and outputs too large to travel inline in a Task or Result go to IPFS; the scheduler
 * reaches IPFS only through this port (the daemon gives it one over its ArtifactService).
 */
import { type Artifact, LIMITS, type Task } from '../../zomes-bindings/index.ts'

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
 * The input as a Task carries it: inline, or (above the inline limit, with IPFS) put on IPFS and
 * registered as an Artifact, the Task carrying its CID.
 */
export async function taskInputOf(
  input: unknown,
  payloads: TaskPayloads | undefined,
): Promise<Pick<Task, 'input' | 'input_cid'>> {
  const json = JSON.stringify(input)
  if (Buffer.byteLength(json) <= LIMITS.task.input_json_bytes.max || payloads === undefined) {
    return { input: input as Task['input'], input_cid: null }
  }
  const put = await payloads.put(json)
  await payloads.register(put, 'task-input.json', {
    task: null,
    result: null,
    input_cids: [],
    tool: 'ripple task submit',
    model: null,
  })
  return { input: null, input_cid: put.cid }
}
