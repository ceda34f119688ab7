/**
 * The collections of the mesh as this peer reads them (entries of memory_shards), by name for the
 * API and by action hash for what peers ask. The first collection of a name counts: another of the
 * same name, written concurrently elsewhere, is ignored.
 */
import type { Collection, EntryRecord } from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import { UnknownCollectionError } from './memory-errors.ts'
import type { KnownCollection } from './shard-holdings.ts'

/** How long a request about a collection not held here yet waits for its entry to arrive. */
const COLLECTION_WAIT_MS = 3000

export interface CollectionCatalogInit {
  conductor: Pick<ConductorPort, 'callZome'>
  /**
   * Resolves true once this peer holds an action (false after `timeoutMs`): a collection a peer writes
   * to or asks about may reach this peer a moment after the request. Without it, an unknown one is refused.
   */
  waitForRecord?: (actionHash: string, timeoutMs: number) => Promise<boolean>
}

export class CollectionCatalog {
  readonly #init: CollectionCatalogInit
  #records: EntryRecord<Collection>[] = []

  constructor(init: CollectionCatalogInit) {
    this.#init = init
  }

  /** Reads the collections again (each placement check does; a name or hash not known yet does). */
  async refresh(): Promise<void> {
    this.#records = await this.#init.conductor.callZome('memory_shards', 'list_collections', null)
  }

  /** The first collection of each name, as last read. */
  named(): EntryRecord<Collection>[] {
    const byName = new Map<string, EntryRecord<Collection>>()
    for (const c of this.#records) if (!byName.has(c.entry.name)) byName.set(c.entry.name, c)
    return [...byName.values()]
  }

  /** The collection of `name`, read again when it is not known here (null: there is none). */
  async find(name: string): Promise<EntryRecord<Collection> | null> {
    const known = () => this.named().find((c) => c.entry.name === name) ?? null
    const found = known()
    if (found !== null) return found
    await this.refresh()
    return known()
  }

  async get(name: string): Promise<EntryRecord<Collection>> {
    const found = await this.find(name)
    if (found === null) throw new UnknownCollectionError(name)
    return found
  }

  /** The collection an action hash names: read again, then waited for, when it is not known here yet. */
  async byHash(hash: string): Promise<EntryRecord<Collection> | null> {
    const known = () => this.#records.find((c) => c.action_hash === hash) ?? null
    if (known() !== null) return known()
    await this.refresh()
    const wait = this.#init.waitForRecord
    if (known() === null && wait && (await wait(hash, COLLECTION_WAIT_MS).catch(() => false)))
      await this.refresh()
    return known()
  }
}

/** A collection record as the shard holdings know it. */
export function knownOf(record: EntryRecord<Collection>): KnownCollection {
  return { hash: record.action_hash, collection: record.entry }
}
