/**
 * sha256 of model files, cached by (path, size, mtime): hashing a multi-GiB GGUF takes seconds,
 * and the registry re-scans the models dir every few seconds. The cache is kept in a JSON file in
 * the data dir so a restart does not re-hash files that did not change.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { z } from 'zod'

const CacheFileSchema = z.record(
  z.string(),
  z.object({ size: z.number(), mtime_ms: z.number(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
)
type CacheEntries = z.infer<typeof CacheFileSchema>

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

export class FileHashCache {
  #entries: CacheEntries = {}
  #dirty = false

  /** `cacheFile` null keeps the cache in memory only. */
  readonly #cacheFile: string | null

  constructor(cacheFile: string | null) {
    this.#cacheFile = cacheFile
  }

  /** Loads the cache file; a missing or unreadable file starts an empty cache (it is only a cache). */
  async load(): Promise<void> {
    if (this.#cacheFile === null) return
    try {
      const parsed = CacheFileSchema.safeParse(JSON.parse(await readFile(this.#cacheFile, 'utf8')))
      if (parsed.success) this.#entries = parsed.data
    } catch {
      this.#entries = {}
    }
  }

  has(path: string, size: number, mtimeMs: number): boolean {
    const cached = this.#entries[path]
    return cached !== undefined && cached.size === size && cached.mtime_ms === mtimeMs
  }

  async sha256(path: string, size: number, mtimeMs: number): Promise<string> {
    const cached = this.#entries[path]
    if (cached && this.has(path, size, mtimeMs)) return cached.sha256
    const sha256 = await sha256File(path)
    this.#entries[path] = { size, mtime_ms: mtimeMs, sha256 }
    this.#dirty = true
    return sha256
  }

  /** Forgets files no longer present, then writes the cache if it changed (atomically, via rename). */
  async save(presentPaths: ReadonlySet<string>): Promise<void> {
    for (const path of Object.keys(this.#entries)) {
      if (!presentPaths.has(path)) {
        delete this.#entries[path]
        this.#dirty = true
      }
    }
    if (this.#cacheFile === null || !this.#dirty) return
    const tmp = `${this.#cacheFile}.tmp`
    await writeFile(tmp, JSON.stringify(this.#entries), { mode: 0o600 })
    await rename(tmp, this.#cacheFile)
    this.#dirty = false
  }
}
