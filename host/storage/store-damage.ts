/**
 * A damaged store said as such: SQLite's answer of damage, from whichever call meets it, becomes an
 * error that names the file and what to do about it.
 */
import type { ChainStore } from './chain-store.ts'

/**
 * Thrown when the store's file is not a SQLite database, or a damaged one: at open, or by whichever
 * later query first reads a damaged page (SQLite checks a page only when it reads it).
 */
export class CorruptStoreError extends Error {
  static override readonly name = 'CorruptStoreError'
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `the store ${path} is not a readable SQLite database (${(cause as Error).message}); ` +
        'restore it from a backup, or move it aside to start this peer afresh',
      { cause },
    )
    this.name = 'CorruptStoreError'
  }
}

/** SQLite's answers for a file that is not a database or is damaged (SQLITE_CORRUPT_INDEX and kin too). */
export function isCorrupt(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
}

/**
 * `store` with SQLite's answer of damage, from any method (or the iterator it returns), turned into
 * CorruptStoreError naming the file and what to do: a bare "database disk image is malformed" says
 * neither, and a damaged page is found by whichever query reads it first, at start or much later.
 */
export function namingDamage(store: ChainStore, path: string): ChainStore {
  const rethrow = (err: unknown): never => {
    throw isCorrupt(err) ? new CorruptStoreError(path, err) : err
  }
  function* iterating<T>(iterator: Iterable<T>): Generator<T> {
    try {
      yield* iterator
    } catch (err) {
      rethrow(err)
    }
  }
  // Each method wrapped once, not at every call: the chain store is called many times per signed action.
  // Wrapped again when the property now holds another function (a test that replaced one on the store).
  const wrapped = new Map<PropertyKey, { of: unknown; method: (...args: unknown[]) => unknown }>()
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key)
      if (typeof value !== 'function') return value
      let entry = wrapped.get(key)
      if (entry?.of !== value) {
        const method = (...args: unknown[]) => {
          try {
            const result: unknown = value.apply(target, args)
            // Rows read lazily (a generator, better-sqlite3's iterate()) meet the damage while iterated.
            const lazy = typeof (result as Iterator<unknown> | null)?.next === 'function'
            return lazy ? iterating(result as Iterable<unknown>) : result
          } catch (err) {
            return rethrow(err)
          }
        }
        entry = { of: value, method }
        wrapped.set(key, entry)
      }
      return entry.method
    },
  })
}
