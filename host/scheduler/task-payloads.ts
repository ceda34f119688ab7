/**
 * Task inputs and outputs too large to travel inline in a Task or Result go to IPFS; the scheduler
 * reaches IPFS only through this port (the daemon gives it one over its ArtifactService).
 */
import type { Artifact } from '../../zomes-bindings/index.ts'

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
