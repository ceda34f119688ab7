/**
 * This peer's own model aliases, kept in `aliases.json` in the data dir (written whole, through a
 * temporary file, so a crash leaves the old file or the new one). A file that cannot be read as
 * aliases is left as it is: the peer starts without its aliases and says why, naming the file; the
 * first alias set afterwards moves it aside (`aliases.json.corrupt`) rather than writing over it.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { z } from 'zod'
import type { Logger } from '../log/logger.ts'
import { type ModelAlias, ModelAliasSchema } from './model-aliases.ts'

const AliasFileSchema = z.strictObject({ aliases: z.array(ModelAliasSchema).max(256) })

export class AliasFile {
  #aliases: ModelAlias[] = []
  /** Why the file on disk could not be read; it is moved aside before the first write. */
  #corrupt: string | null = null
  readonly #file: string
  readonly #logger: Pick<Logger, 'warn' | 'error'>

  constructor(file: string, logger: Pick<Logger, 'warn' | 'error'>) {
    this.#file = file
    this.#logger = logger
  }

  /** Reads the file; none is no aliases, and so is one that does not read (said in the log). */
  async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.#file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    const parsed = parseJson(text)
    const file = parsed === undefined ? null : AliasFileSchema.safeParse(parsed)
    if (file?.success) {
      this.#aliases = file.data.aliases
      return
    }
    this.#corrupt = file === null ? 'not JSON' : (file.error.issues[0]?.message ?? 'not aliases')
    this.#logger.error(
      { file: this.#file, reason: this.#corrupt },
      `${this.#file} is not a list of model aliases (${this.#corrupt}); this peer starts without its own aliases, the file is left as it is`,
    )
  }

  list(): ModelAlias[] {
    return this.#aliases
  }

  /** Sets or replaces the alias of that name. */
  async set(alias: ModelAlias): Promise<void> {
    await this.#write([...this.#aliases.filter((a) => a.name !== alias.name), alias])
  }

  /** Removes the alias of that name; false when there was none. */
  async remove(name: string): Promise<boolean> {
    const rest = this.#aliases.filter((a) => a.name !== name)
    if (rest.length === this.#aliases.length) return false
    await this.#write(rest)
    return true
  }

  async #write(aliases: ModelAlias[]): Promise<void> {
    if (this.#corrupt !== null) {
      await rename(this.#file, `${this.#file}.corrupt`)
      this.#logger.warn({ file: `${this.#file}.corrupt` }, 'the unreadable aliases file was moved aside')
      this.#corrupt = null
    }
    const tmp = `${this.#file}.tmp`
    await writeFile(tmp, `${JSON.stringify({ aliases }, null, 2)}\n`)
    await rename(tmp, this.#file)
    this.#aliases = aliases
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
