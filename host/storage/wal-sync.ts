/**
 * Group commit for a WAL-mode SQLite database under synchronous=NORMAL: a commit is in the WAL file
 * when its transaction returns, and `flush()` fdatasyncs that file on libuv's thread pool (not the
 * event loop), one sync for every commit made before it started.
 */
import { closeSync, fdatasync, openSync } from 'node:fs'

export class WalSync {
  readonly #walPath: string
  readonly #isOpen: () => boolean
  #walFd: number | null = null
  /** The sync under way, and the one queued behind it for commits made since it started. */
  #syncing: Promise<void> = Promise.resolve()
  #queued: Promise<void> | null = null

  /** `isOpen`: whether the database is still open (closing it checkpoints and syncs the WAL itself). */
  constructor(walPath: string, isOpen: () => boolean) {
    this.#walPath = walPath
    this.#isOpen = isOpen
  }

  flush(): Promise<void> {
    // A sync already queued starts after every commit made so far: it serves this caller too.
    this.#queued ??= this.#syncing
      .catch(() => {})
      .then(() => {
        this.#queued = null
        this.#syncing = this.#syncWal()
        return this.#syncing
      })
    return this.#queued
  }

  #syncWal(): Promise<void> {
    if (!this.#isOpen()) return Promise.resolve()
    // Opened once the WAL exists (after the first commit); SQLite keeps the same file from then on.
    this.#walFd ??= openSync(this.#walPath, 'r')
    const fd = this.#walFd
    // Closed meanwhile: closing checkpointed the WAL into the database and synced it.
    return new Promise((resolve, reject) =>
      fdatasync(fd, (err) => (err && this.#isOpen() ? reject(err) : resolve())),
    )
  }

  /** Closes the WAL file; call after closing the database. */
  close(): void {
    if (this.#walFd !== null) closeSync(this.#walFd)
    this.#walFd = null
  }
}
