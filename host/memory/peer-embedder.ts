/**
 * Memory's embeddings come from a model of the mesh, run like any other request; what the mesh could
 * not do becomes memory's own error, so a caller gets the status it means (no such model: 404).
 */
import { kindOf } from '../interface/failure-kind.ts'
import type { RequestsPort } from '../requests/requests-port.ts'
import { RunError } from '../requests/run-errors.ts'
import { InferEmbedOutputSchema } from '../workers/infer-embed.ts'
import { EmbeddingUnavailableError } from './memory-errors.ts'
import type { Embedder } from './memory-service.ts'

export function peerEmbedder(runner: Pick<RequestsPort, 'run'>): Embedder {
  return async (model, texts, signal) => {
    const answer = await runner
      .run({
        kind: 'infer.embed',
        model,
        input: { model, input: texts },
        fanOut: 1,
        signal: signal ?? new AbortController().signal,
      })
      .catch((err: unknown) => {
        if (err instanceof RunError && kindOf(err) !== 'invalid')
          throw new EmbeddingUnavailableError(model, err.failureKind, err.message)
        throw err
      })
    const output = InferEmbedOutputSchema.parse(answer.output)
    return { vectors: output.vectors, file_hash: output.model.file_hash }
  }
}
