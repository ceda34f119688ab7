/**
 * A model held in memory, with one generation context and one embedding context, each created on
 * first use and kept while the model stays loaded. Tasks on one model take turns: on a CPU peer two
 * at once would only split the same cores, and one context per model bounds its memory.
 */
import type {
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaEmbeddingContext,
  LlamaModel,
} from 'node-llama-cpp'
import type { GgufModel } from './gguf-scan.ts'
import { SerialQueue } from './serial-queue.ts'

export interface LoadedModelInit {
  info: GgufModel
  llama: Llama
  model: LlamaModel
  /** Tokens per context. */
  contextSize: number
  threads: number
  loadMs: number
}

/** Thrown into running tasks when their model is unloaded under them. */
export class ModelUnloadedError extends Error {
  static override readonly name = 'ModelUnloadedError'
  constructor(name: string) {
    super(`model "${name}" was unloaded`)
    this.name = 'ModelUnloadedError'
  }
}

export class LoadedModel {
  readonly info: GgufModel
  readonly llama: Llama
  readonly model: LlamaModel
  readonly contextSize: number
  readonly threads: number
  readonly loadMs: number
  private readonly unloading = new AbortController()
  private readonly turns = new SerialQueue()
  private context: LlamaContext | null = null
  private embeddingContext: LlamaEmbeddingContext | null = null

  constructor(init: LoadedModelInit) {
    this.info = init.info
    this.llama = init.llama
    this.model = init.model
    this.contextSize = init.contextSize
    this.threads = init.threads
    this.loadMs = init.loadMs
  }

  /** Aborted when the model is unloaded. */
  get signal(): AbortSignal {
    return this.unloading.signal
  }

  /** Runs `use` on a fresh sequence of the generation context, once earlier tasks are done. */
  withSequence<T>(use: (sequence: LlamaContextSequence) => Promise<T>): Promise<T> {
    return this.turns.run(async () => {
      this.signal.throwIfAborted()
      this.context ??= await this.model.createContext({
        contextSize: this.contextSize,
        threads: this.threads,
        sequences: 1,
      })
      // A fresh sequence per task, so every prompt is evaluated from scratch: reusing the KV cache
      // of an earlier task would let the same request answer differently depending on what ran before.
      const sequence = this.context.getSequence()
      try {
        return await use(sequence)
      } finally {
        sequence.dispose()
      }
    })
  }

  withEmbeddingContext<T>(use: (context: LlamaEmbeddingContext) => Promise<T>): Promise<T> {
    return this.turns.run(async () => {
      this.signal.throwIfAborted()
      this.embeddingContext ??= await this.model.createEmbeddingContext({
        contextSize: this.contextSize,
        threads: this.threads,
      })
      return use(this.embeddingContext)
    })
  }

  /** Stops running tasks and frees the model's memory. */
  async dispose(): Promise<void> {
    this.unloading.abort(new ModelUnloadedError(this.info.name))
    // The running task stops at its next token; disposing the model under it instead makes
    // node-llama-cpp throw from inside a batch, where nothing can catch it (the process dies).
    await this.turns.run(async () => {})
    await this.model.dispose()
  }
}
