/**
 * One fetch per CID on this peer, shared by everyone who reads it. Two fetches of one CID (the
 * replication keeper pinning it while `ripple artifact get` reads it) raced for the same blocks: the
 * second want joined one already answered and waited for a block that had come and gone, and both
 * wrote each block, the loser retrying the store's rename for a second. Here the first reader starts
 * the fetch; every reader follows it, taking each chunk as it arrives or, when it lags (or joined
 * late), reading what already arrived from the local store. The fetch stops when its last reader leaves.
 */
import '../runtime/node20-polyfills.ts'
import type { CID } from 'multiformats/cid'
import type { IpfsStore } from './ipfs-store.ts'

/** The network fetch of a CID's bytes (its retries and idle limit included). */
export type StartFetch = (cid: CID, signal: AbortSignal) => AsyncIterable<Uint8Array>

class Fetch {
  /** Bytes the fetch yielded so far: their blocks are in the local store. */
  reached = 0
  /** The chunk that ends at `reached`, handed to readers that are right behind it. */
  last: { start: number; bytes: Uint8Array } | null = null
  done = false
  error: unknown = null
  readers = 0
  readonly abort = new AbortController()
  #changed = Promise.withResolvers<void>()

  constructor(start: (signal: AbortSignal) => AsyncIterable<Uint8Array>, onEnd: () => void) {
    void (async () => {
      try {
        for await (const bytes of start(this.abort.signal)) {
          this.last = { start: this.reached, bytes }
          this.reached += bytes.byteLength
          this.#notify()
        }
        this.done = true
      } catch (err) {
        this.error = err
      } finally {
        onEnd()
        this.#notify()
      }
    })()
  }

  /** Resolves at the next chunk or at the end; rejects when `signal` aborts first. */
  changed(signal: AbortSignal | undefined): Promise<void> {
    if (signal === undefined) return this.#changed.promise
    signal.throwIfAborted()
    const { promise, reject } = Promise.withResolvers<void>()
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    return Promise.race([this.#changed.promise, promise]).finally(() =>
      signal.removeEventListener('abort', onAbort),
    )
  }

  #notify(): void {
    this.#changed.resolve()
    this.#changed = Promise.withResolvers<void>()
  }
}

export class SharedFetches {
  readonly #running = new Map<string, Fetch>()

  readonly #ipfs: Pick<IpfsStore, 'cat'>
  readonly #start: StartFetch

  constructor(ipfs: Pick<IpfsStore, 'cat'>, start: StartFetch) {
    this.#ipfs = ipfs
    this.#start = start
  }

  /** The CID's bytes, from the fetch already running for it or from a new one. */
  async *read(cid: CID, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    const key = cid.toString()
    const fetch = this.#running.get(key) ?? this.#begin(key, cid)
    fetch.readers++
    try {
      yield* this.#follow(cid, fetch, signal)
    } finally {
      // The last reader gone, nobody wants the rest.
      if (--fetch.readers === 0 && !fetch.done) {
        fetch.abort.abort()
        this.#forget(key, fetch)
      }
    }
  }

  #begin(key: string, cid: CID): Fetch {
    const fetch: Fetch = new Fetch(
      (signal) => this.#start(cid, signal),
      () => this.#forget(key, fetch),
    )
    this.#running.set(key, fetch)
    return fetch
  }

  /** A fetch that ended or was dropped: the next reader starts a fresh one. */
  #forget(key: string, fetch: Fetch): void {
    if (this.#running.get(key) === fetch) this.#running.delete(key)
  }

  async *#follow(cid: CID, fetch: Fetch, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
    let offset = 0
    for (;;) {
      signal?.throwIfAborted()
      const last = fetch.last
      if (last !== null && offset === last.start) {
        offset += last.bytes.byteLength
        yield last.bytes
        continue
      }
      if (offset < fetch.reached) {
        // Behind the fetch: these blocks are here already (a block gone since is fetched again).
        const until = last !== null && last.start > offset ? last.start : fetch.reached
        for await (const bytes of this.#ipfs.cat(cid, { offset, length: until - offset, signal })) {
          offset += bytes.byteLength
          yield bytes
        }
        continue
      }
      if (fetch.error !== null) throw fetch.error
      if (fetch.done) return
      await fetch.changed(signal)
    }
  }
}
