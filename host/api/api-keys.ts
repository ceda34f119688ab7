/**
 * API keys for the inference endpoint (`/v1`, and `/mcp`): made with `ripple keys create`, kept hashed
 * (sha256 of the whole key; keys are 32 random bytes, so no slow hash is needed) in
 * `<dataDir>/api-keys.json` (mode 0600), optionally scoped to models and given an expiry, revoked by
 * id. The CLI writes the file and the daemon re-reads it when it changes, so a key works (or stops
 * working) at once, with or without a daemon running.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Band } from '../requests/priority.ts'
import type { KeyLimits } from '../usage/key-limits.ts'

export interface ApiKeyRecord {
  id: string
  name: string | null
  /** null: every model. */
  models: string[] | null
  created_at: string
  expires_at: string | null
  revoked_at: string | null
  /** Requests and tokens it may take per minute and per day (absent: none; keys made before had none). */
  limits?: KeyLimits
  /**
   * Its requests' priority band and the highest its header may ask for (priority.ts; absent: agent,
   * any band asked for).
   */
  priority?: Band
  /** sha256 of the key, hex. */
  hash: string
}

/** A key as listed: everything but its hash. */
export type ApiKeyView = Omit<ApiKeyRecord, 'hash'>

export type KeyCheck = { ok: true; key: ApiKeyView } | { ok: false; reason: string }

/** Thrown when a revoke names no key. */
export class ApiKeyNotFoundError extends Error {
  static override readonly name = 'ApiKeyNotFoundError'
  constructor(id: string) {
    super(`no API key with id ${id} (see \`ripple keys ls\`)`)
    this.name = 'ApiKeyNotFoundError'
  }
}

const PREFIX = 'rpl'
const KEY_PATTERN = /^rpl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/

export function apiKeysPath(dataDir: string): string {
  return join(dataDir, 'api-keys.json')
}

export class ApiKeyStore {
  #cache: { mtimeMs: number; size: number; records: ApiKeyRecord[] } | null = null

  constructor(readonly path: string) {}

  /** Makes a key; the key itself is in the answer only (the file keeps its hash). */
  async create(options: {
    name?: string
    models?: readonly string[]
    expiresAt?: Date
    limits?: KeyLimits
    priority?: Band
  }): Promise<{
    key: string
    record: ApiKeyView
  }> {
    const id = randomBytes(6).toString('hex')
    const key = `${PREFIX}_${id}_${randomBytes(32).toString('base64url')}`
    const record: ApiKeyRecord = {
      id,
      name: options.name ?? null,
      models: options.models?.length ? [...options.models] : null,
      created_at: new Date().toISOString(),
      expires_at: options.expiresAt?.toISOString() ?? null,
      revoked_at: null,
      ...(options.limits && Object.keys(options.limits).length > 0 && { limits: { ...options.limits } }),
      ...(options.priority && { priority: options.priority }),
      hash: digest(key).toString('hex'),
    }
    await this.#write([...(await this.#read()), record])
    return { key, record: view(record) }
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.#read()).map(view)
  }

  /** Revokes a key by id; it is refused from then on (and stays listed, as revoked). */
  async revoke(id: string): Promise<ApiKeyView> {
    const records = await this.#read()
    const record = records.find((r) => r.id === id)
    if (record === undefined) throw new ApiKeyNotFoundError(id)
    record.revoked_at ??= new Date().toISOString()
    await this.#write(records)
    return view(record)
  }

  /** Whether `secret` is a live key: known, not revoked, not expired. */
  async check(secret: string, now = Date.now()): Promise<KeyCheck> {
    const match = KEY_PATTERN.exec(secret)
    if (!match) return { ok: false, reason: 'wrong API key' }
    const record = (await this.#read()).find((r) => r.id === match[1])
    // Compare digests: equal length always, so the time taken says nothing about the key.
    if (record === undefined || !timingSafeEqual(digest(secret), Buffer.from(record.hash, 'hex')))
      return { ok: false, reason: 'wrong API key' }
    if (record.revoked_at !== null) return { ok: false, reason: `API key ${record.id} was revoked` }
    if (record.expires_at !== null && Date.parse(record.expires_at) <= now)
      return { ok: false, reason: `API key ${record.id} expired at ${record.expires_at}` }
    return { ok: true, key: view(record) }
  }

  /** The records, re-read only when the file changed (a stat per check). */
  async #read(): Promise<ApiKeyRecord[]> {
    const info = await stat(this.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null
      throw err
    })
    if (info === null) return []
    if (this.#cache?.mtimeMs === info.mtimeMs && this.#cache.size === info.size)
      return structuredClone(this.#cache.records)
    const records = JSON.parse(await readFile(this.path, 'utf8')) as ApiKeyRecord[]
    this.#cache = { mtimeMs: info.mtimeMs, size: info.size, records }
    return structuredClone(records)
  }

  /** Written whole to a temporary file, then renamed: a reader never sees half a file. */
  async #write(records: ApiKeyRecord[]): Promise<void> {
    const temporary = `${this.path}.${process.pid}.tmp`
    await writeFile(temporary, `${JSON.stringify(records, null, 2)}\n`, { mode: 0o600 })
    await chmod(temporary, 0o600)
    await rename(temporary, this.path)
    this.#cache = null
  }
}

/** Whether a key (null: the management token) may use a model. */
export function keyAllowsModel(key: ApiKeyView | null, model: string): boolean {
  return key === null || key.models === null || key.models.includes(model)
}

function view({ hash: _, ...rest }: ApiKeyRecord): ApiKeyView {
  return rest
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
