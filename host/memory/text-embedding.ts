/**
 * Texts to vectors with a collection's embedding model (an `infer.embed` task on the mesh), in
 * batches. Vectors of two model files cannot be compared, so the file of a collection's first
 * embedding is pinned to it (`model-pins.ts`), and one from another file (a model replaced under the
 * same name) is refused.
 */
import type { Collection, EntryRecord } from '../../zomes-bindings/index.ts'
import { EmbeddingModelChangedError, InvalidMemoryInputError } from './memory-errors.ts'
import type { ModelPins } from './model-pins.ts'

/** Embeds texts with a model of the mesh (an `infer.embed` task); answers the model file's hash too. */
export type Embedder = (
  model: string,
  texts: string[],
  signal?: AbortSignal,
) => Promise<{ vectors: number[][]; file_hash: string }>

/** The `embedding_model` of a collection that takes vectors only. */
const NO_MODEL = 'none'
const EMBED_BATCH = 256

export class TextEmbedding {
  readonly #embed: Embedder | undefined
  readonly #pins: ModelPins

  constructor(embed: Embedder | undefined, pins: ModelPins) {
    this.#embed = embed
    this.#pins = pins
  }

  /** The vectors of `texts`, in order; `field` is what an error names. */
  async embed(
    record: EntryRecord<Collection>,
    texts: string[],
    field: string,
    signal?: AbortSignal,
  ): Promise<number[][]> {
    const model = record.entry.embedding_model
    if (model === NO_MODEL || this.#embed === undefined) {
      throw new InvalidMemoryInputError(
        field,
        `collection "${record.entry.name}" has no embedding model: give vectors`,
      )
    }
    const vectors: number[][] = []
    for (let i = 0; i < texts.length; i += EMBED_BATCH) {
      const answer = await this.#embed(model, texts.slice(i, i + EMBED_BATCH), signal)
      const kept = this.#pins.pin(record.action_hash, model, answer.file_hash)
      if (kept !== answer.file_hash)
        throw new EmbeddingModelChangedError(field, model, kept, answer.file_hash)
      vectors.push(...answer.vectors)
    }
    return vectors
  }
}
