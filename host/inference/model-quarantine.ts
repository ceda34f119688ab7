/**
 * Model files this peer will not run again, by sha256: a file that crashed llama.cpp (its model
 * process died of an abort or a fault) is quarantined, kept in a JSON file in the data dir, so a
 * restart does not load it and die again, and the file is advertised as unusable with the reason.
 * Keyed by hash, not path: a copy or a rename of the file is the same poison.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { z } from 'zod'

const QuarantineFileSchema = z.record(
  z.string().regex(/^[0-9a-f]{64}$/),
  z.object({ name: z.string(), reason: z.string(), at: z.string() }),
)
export type QuarantineEntry = z.infer<typeof QuarantineFileSchema>[string]

export class ModelQuarantine {
  #entries: Record<string, QuarantineEntry> = {}

  /** `file` null keeps the quarantine in memory only (tests). */
  readonly #file: string | null

  constructor(file: string | null) {
    this.#file = file
  }

  /** Reads the file; a missing one is an empty quarantine. An unreadable one is an error: it guards the daemon. */
  async load(): Promise<void> {
    if (this.#file === null) return
    let text: string
    try {
      text = await readFile(this.#file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    this.#entries = QuarantineFileSchema.parse(JSON.parse(text))
  }

  get(sha256: string): QuarantineEntry | undefined {
    return this.#entries[sha256]
  }

  async add(sha256: string, entry: QuarantineEntry): Promise<void> {
    this.#entries[sha256] = entry
    if (this.#file === null) return
    const tmp = `${this.#file}.tmp`
    await writeFile(tmp, JSON.stringify(this.#entries, null, 2), { mode: 0o600 })
    await rename(tmp, this.#file)
  }
}
