/** The scheduler's TaskPayloads port over this peer's ArtifactService. */
import type { TaskPayloads } from '../scheduler/task-payloads.ts'
import type { ArtifactService } from './artifact-service.ts'

export function artifactTaskPayloads(
  artifacts: Pick<ArtifactService, 'importBytes' | 'register' | 'read'>,
): TaskPayloads {
  return {
    put: (json, signal) =>
      artifacts.importBytes(
        (async function* () {
          yield new TextEncoder().encode(json)
        })(),
        { signal },
      ),
    async register(content, name, provenance) {
      await artifacts.register(content, { name, mimeType: 'application/json', provenance })
    },
    async get(cid, signal) {
      const { bytes } = await artifacts.read(cid, { signal })
      const chunks: Uint8Array[] = []
      for await (const chunk of bytes) chunks.push(chunk)
      return Buffer.concat(chunks).toString('utf8')
    },
  }
}
