/**
 * Which model file the vectors of each collection come from on this peer, kept in the memory's own
 * SQLite file (`<memory dir>/memory.sqlite`, table model_pins) beside the collections' shard folders:
 * a peer that only writes or queries a collection holds no shard of it, yet keeps its pin. Opened on
 * first use. The previous version kept each pin in a side file, `<collection>/embedding-model.json`:
 * opening moves any such file in and removes it, so no pin is lost.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Logger } from '../log/logger.ts'
import { ensurePrivateFileSync, PRIVATE_DIR_MODE, tightenIfPresentSync } from '../storage/private-files.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS model_pins (
  collection TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  file_hash TEXT NOT NULL
) WITHOUT ROWID;
`
/** A pin already kept wins: the first model file a collection's vectors came from stays its file. */
const KEEP = 'INSERT OR IGNORE INTO model_pins (collection, model, file_hash) VALUES (?, ?, ?)'
/** Where the previous version kept a collection's pin, in the collection's folder. */
const LEGACY_PIN_FILE = 'embedding-model.json'

export class ModelPins {
  readonly #dir: string
  readonly #logger: Logger
  #db: Database.Database | null = null

  constructor(dir: string, logger: Logger) {
    this.#dir = dir
    this.#logger = logger
  }

  /**
   * The model file hash kept for a collection (by action hash): `fileHash` when none was, which is
   * kept from now on; the earlier one otherwise.
   */
  pin(collection: string, model: string, fileHash: string): string {
    const db = this.#open()
    db.prepare(KEEP).run(collection, model, fileHash)
    const kept = db.prepare('SELECT file_hash FROM model_pins WHERE collection = ?').get(collection) as {
      file_hash: string
    }
    return kept.file_hash
  }

  close(): void {
    this.#db?.close()
    this.#db = null
  }

  #open(): Database.Database {
    if (this.#db !== null) return this.#db
    mkdirSync(this.#dir, { recursive: true, mode: PRIVATE_DIR_MODE })
    const path = join(this.#dir, 'memory.sqlite')
    ensurePrivateFileSync(path)
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.exec(SCHEMA)
    tightenIfPresentSync([`${path}-wal`, `${path}-shm`])
    this.#moveLegacyPins(db)
    this.#db = db
    return db
  }

  /** Moves each side file of the previous version into the table (a pin already there wins), then removes it. */
  #moveLegacyPins(db: Database.Database): void {
    const keep = db.prepare(KEEP)
    for (const entry of readdirSync(this.#dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const file = join(this.#dir, entry.name, LEGACY_PIN_FILE)
      if (!existsSync(file)) continue
      try {
        const { model, file_hash } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
        if (typeof model !== 'string' || typeof file_hash !== 'string')
          throw new Error('no model or file_hash')
        keep.run(entry.name, model, file_hash)
        this.#logger.info({ collection: entry.name, model }, 'memory model pin moved into memory.sqlite')
      } catch (err) {
        // Unreadable, it pinned nothing (the previous version refused to embed for it): the next embedding pins.
        this.#logger.warn({ err, file }, 'memory model pin file unreadable; dropped')
      }
      rmSync(file, { force: true })
    }
  }
}
