/** The scheduler's TaskPayloads port over this peer's ArtifactService. */
import { setTimeout as sleep } from 'node:timers/promises'
import type { TaskPayloads } from '../scheduler/task-payloads.ts'
import { ArtifactNotFoundError } from './artifact-errors.ts'
import type { ArtifactsPort } from './artifacts-port.ts'

/** How often a read asks again for an Artifact not known here yet. */
const ASK_AGAIN_MS = 250

export function artifactTaskPayloads(
  artifacts: Pick<ArtifactsPort, 'importBytes' | 'register' | 'read'>,
): TaskPayloads {
  return {
    put: (bytes, signal) =>
      artifacts.importBytes(
        (async function* () {
          yield bytes
        })(),
        { signal },
      ),
    async register(content, name, provenance) {
      // Sealed: to anyone but the task's two parties, opaque bytes.
      await artifacts.register(content, { name, mimeType: 'application/octet-stream', provenance })
    },
    async get(cid, signal) {
      // An output's Artifact is registered once its Result exists, and reaches the requester after it.
      for (;;) {
        try {
          const { bytes } = await artifacts.read(cid, { signal })
          const chunks: Uint8Array[] = []
          for await (const chunk of bytes) chunks.push(chunk)
          return Buffer.concat(chunks)
        } catch (err) {
          if (!(err instanceof ArtifactNotFoundError) || signal === undefined) throw err
          await sleep(ASK_AGAIN_MS, undefined, { signal })
        }
      }
    },
  }
}
