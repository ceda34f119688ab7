/**
 * A shard's search index: HNSW (hnswlib-node, chosen by `bench/memory-index.ts`) over the live
 * documents of its SQLite store, by row label. The store is the truth: the index is saved to a file
 * with the sha256 of its bytes, read back only when it is those bytes, and rebuilt from the store
 * otherwise.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs'
import hnswlib from 'hnswlib-node'
import type { Metric } from '../../zomes-bindings/index.ts'
import type { Logger } from '../log/logger.ts'
import { tightenIfPresentSync } from '../storage/private-files.ts'

// M 16, ef 128 / 64: the settings bench/memory-index.ts measured (recall@10 0.999 on 20,000 x 384).
const M = 16
const EF_CONSTRUCTION = 128
const EF_SEARCH = 64
const INITIAL_CAPACITY = 1024

// A CommonJS addon: Node's ESM loader gives its exports as the default export only.
const { HierarchicalNSW } = hnswlib
type HierarchicalNSW = InstanceType<typeof HierarchicalNSW>

const SPACES: Record<Metric, 'cosine' | 'l2' | 'ip'> = { cosine: 'cosine', l2: 'l2', ip: 'ip' }

export class ShardIndex {
  readonly #index: HierarchicalNSW
  readonly #path: string
  readonly #dimension: number

  constructor(path: string, metric: Metric, dimension: number) {
    this.#path = path
    this.#dimension = dimension
    this.#index = new HierarchicalNSW(SPACES[metric], dimension)
  }

  /**
   * About the memory the index takes: hnswlib allocates its bottom layer whole for every element it
   * has room for (its vector, its 2·M links and their count, its label, its level and the pointer to
   * its upper links); the upper layers' M links (and count) are for ~1 element in M.
   */
  bytes(): number {
    const room = this.#index.getMaxElements()
    const element = this.#dimension * 4 + (2 * M + 1) * 4 + 8 + 4 + 8
    return Math.ceil(room * (element + ((M + 1) * 4) / M))
  }

  /** Reads the saved index; false (to rebuild) when it is missing or not the bytes saved (`digest`). */
  load(digest: string | undefined, logger: Logger): boolean {
    const path = this.#path
    if (!existsSync(path)) return false
    if (digest === undefined || sha256File(path) !== digest) {
      logger.warn(
        { path },
        'memory shard index file is damaged (its digest differs); rebuilding it from the shard store',
      )
      rmSync(path, { force: true })
      return false
    }
    try {
      this.#index.readIndexSync(path)
    } catch (err) {
      logger.warn({ path, err }, 'memory shard index file is unreadable; rebuilding it from the shard store')
      return false
    }
    return true
  }

  /** Starts again from the store's `live` documents, with room for twice as many. */
  rebuild(live: number, points: Iterable<{ label: number; vector: Float32Array }>): void {
    this.#index.initIndex({
      maxElements: Math.max(INITIAL_CAPACITY, live * 2),
      m: M,
      efConstruction: EF_CONSTRUCTION,
      randomSeed: 100,
    })
    for (const { label, vector } of points) this.#index.addPoint(Array.from(vector), label)
  }

  /** A write of a label: `vector` null deletes it; `deleted`, it is a tombstone now (marked so, if ever added). */
  put(label: number, vector: Float32Array | null, deleted: boolean): void {
    const index = this.#index
    if (vector === null) {
      try {
        index.markDelete(label)
      } catch {
        // Not in the index (a delete of an id never upserted here): the tombstone is all there is.
      }
      return
    }
    if (index.getCurrentCount() >= index.getMaxElements()) index.resizeIndex(index.getMaxElements() * 2)
    if (deleted) {
      try {
        index.unmarkDelete(label)
      } catch {
        // A tombstone of an id never upserted here: addPoint below adds it.
      }
    }
    index.addPoint(Array.from(vector), label)
  }

  /** The `n` nearest labels to `vector`, among `allowed` when given. */
  search(
    vector: Float32Array,
    n: number,
    allowed: ReadonlySet<number> | null,
  ): { neighbors: number[]; distances: number[] } {
    this.#index.setEf(Math.max(EF_SEARCH, n))
    return allowed
      ? this.#index.searchKnn(Array.from(vector), n, (label) => allowed.has(label))
      : this.#index.searchKnn(Array.from(vector), n)
  }

  /** Writes the index file (whole, then renamed into place); answers the sha256 of its bytes. */
  save(): string {
    const tmp = `${this.#path}.tmp`
    this.#index.writeIndexSync(tmp)
    const digest = sha256File(tmp)
    renameSync(tmp, this.#path)
    tightenIfPresentSync([this.#path])
    return digest
  }
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}
