/**
 * Creating, listing and describing collections. A collection is created only when each of its shards
 * gets a holder (one without a holder now would never get one); described, it says where placement
 * puts each shard, who announced holding it, and this peer's copy.
 */
import { type Collection, CollectionSchema, type EntryRecord } from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import type { CollectionCatalog } from './collection-catalog.ts'
import { CollectionExistsError, NoMemoryRoomError, UnknownCollectionError } from './memory-errors.ts'
import { parseMemoryInput } from './memory-input.ts'
import type { CollectionDetail, CollectionView } from './memory-views.ts'
import type { ShardHoldings } from './shard-holdings.ts'
import type { ShardPlacement } from './shard-placement.ts'

export interface CollectionAdminInit {
  conductor: Pick<ConductorPort, 'callZome'>
  catalog: CollectionCatalog
  placement: ShardPlacement
  holdings: ShardHoldings
}

export class CollectionAdmin {
  readonly #init: CollectionAdminInit

  constructor(init: CollectionAdminInit) {
    this.#init = init
  }

  async create(input: unknown): Promise<CollectionView> {
    const { catalog, placement, conductor } = this.#init
    const collection = parseMemoryInput(CollectionSchema, input, '')
    if ((await catalog.find(collection.name)) !== null) throw new CollectionExistsError(collection.name)
    const unplaced = await placement.unplaceable(collection)
    if (unplaced.length > 0) throw new NoMemoryRoomError(collection.name, unplaced)
    const ref = await conductor.callZome('memory_shards', 'create_collection', collection)
    const created = await catalog.byHash(ref.action_hash)
    if (created === null) throw new UnknownCollectionError(collection.name)
    return view(created)
  }

  async list(): Promise<CollectionView[]> {
    await this.#init.catalog.refresh()
    return this.#init.catalog.named().map(view)
  }

  /** A collection and where each of its shards is. */
  async show(name: string): Promise<CollectionDetail> {
    const { catalog, placement, conductor, holdings } = this.#init
    const record = await catalog.get(name)
    const [holders, announced] = await Promise.all([
      placement.of(record.action_hash),
      conductor.callZome('memory_shards', 'list_shard_holders', record.action_hash),
    ])
    return {
      ...view(record),
      shards: holders.map((placed, shard) => {
        const here = holdings.get(record.action_hash, shard)
        return {
          shard,
          holders: placed,
          announced: [...new Set(announced.filter((h) => h.entry.shard === shard).map((h) => h.author))],
          here: here ? { ready: here.ready, docs: here.store.count(), digest: here.store.digest() } : null,
        }
      }),
    }
  }
}

function view(record: EntryRecord<Collection>): CollectionView {
  return {
    name: record.entry.name,
    action_hash: record.action_hash,
    author: record.author,
    created_at: record.timestamp,
    collection: record.entry,
  }
}
