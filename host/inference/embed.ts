/** Embeddings on a loaded model: one vector per input text, of the model's embedding length. */
import type { LoadedModel } from './loaded-model.ts'

export interface EmbedResult {
  vectors: number[][]
  dimension: number
  tokens: number
  total_ms: number
}

export async function embed(
  loaded: LoadedModel,
  texts: readonly string[],
  signal?: AbortSignal,
): Promise<EmbedResult> {
  const startedAt = performance.now()
  return loaded.withEmbeddingContext(async (context) => {
    const vectors: number[][] = []
    let tokens = 0
    for (const text of texts) {
      // llama.cpp cannot stop inside one embedding; a cancelled task stops between texts.
      signal?.throwIfAborted()
      loaded.signal.throwIfAborted()
      tokens += loaded.model.tokenize(text).length
      vectors.push([...(await context.getEmbeddingFor(text)).vector])
    }
    return {
      vectors,
      dimension: loaded.model.embeddingVectorSize,
      tokens,
      total_ms: Math.round(performance.now() - startedAt),
    }
  })
}
