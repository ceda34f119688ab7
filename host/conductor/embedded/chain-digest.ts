/**
 * The running digest of a chain's history that a checkpoint keeps (chain-checkpoint.ts): every
 * column of each action's rows, in seq order, as the store reads them back. Whole-chain verification
 * (chain-verify.ts) and every commit add to it.
 */
import { createHash, type Hash } from 'node:crypto'
import type { CommitItem, StoredAction, StoredEntry, StoredLink } from '../../storage/chain-store.ts'

/** The running SHA-256 over a chain's digest blobs, in seq order. */
export class ChainDigest {
  readonly #hash: Hash = createHash('sha256')

  update(blob: Uint8Array): void {
    this.#hash.update(blob)
  }

  /** Adds one action exactly as the store's `chainDigestBlobs` reads it back: every column of its rows. */
  add(
    action: StoredAction,
    entry: Pick<StoredEntry, 'kind' | 'bytes'> | null,
    link: Omit<StoredLink, 'createHash' | 'deletedBy'> | null,
  ): void {
    this.#part(action.hash)
    this.#part(action.signature)
    this.#part(action.bytes)
    this.#part(action.seq)
    this.#part(action.type)
    this.#part(action.timestamp)
    this.#nullable(action.entryHash)
    this.#nullable(action.targetAction)
    if (entry) {
      this.#part(entry.kind)
      this.#part(entry.bytes)
    }
    if (link) {
      this.#part(link.dnaHash)
      this.#part(link.base)
      this.#part(link.target)
      this.#part(link.tag)
      this.#part(link.linkType)
      this.#part(link.zomeIndex)
      this.#part(link.author)
      this.#part(link.timestamp)
    }
  }

  addItems(items: readonly CommitItem[]): void {
    for (const { action, entry, link } of items) this.add(action, entry ?? null, link ?? null)
  }

  /** `<byte length>:<value>`; a number or text as SQLite writes it, its decimal or UTF-8 bytes. */
  #part(value: Uint8Array | string | number): void {
    const bytes = typeof value === 'object' ? value : Buffer.from(String(value))
    this.#hash.update(`${bytes.length}:`)
    this.#hash.update(bytes)
  }

  #nullable(value: Uint8Array | null): void {
    if (value === null) this.#hash.update('-')
    else this.#part(value)
  }

  value(): Uint8Array {
    return new Uint8Array(this.#hash.copy().digest())
  }
}
