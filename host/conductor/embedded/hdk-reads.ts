/**
 * The HDK's reads inside one zome call: the call's pending writes over the store, and beside them what
 * earlier rounds of the call got from holders (remote-reads.ts). Where records are sharded, a read of a
 * neighbourhood record this peer does not hold (a record by action hash, what targets it, the links on
 * a base) that none of those answers is recorded as a miss and answered with nothing; the cell gets the
 * misses and runs the call again (cell.ts, bounded by read-rounds.ts).
 */
import type { Details, Record as HcRecord, Link } from '@holochain/client'
import { hashesEqual, holoHashKind } from '../../identity/hash.ts'
import type { StoredAction, StoredEntry, StoredLink } from '../../storage/chain-store.ts'
import { decodeAction } from './action.ts'
import type { CellContext } from './cell-context.ts'
import { ActionTypes, DetailsTypes, EntryDhtStatuses, ValidationStatuses } from './hc-enums.ts'
import { toLink, toRecord, toSignedActionHashed } from './record.ts'
import { type GotReads, NOTHING_GOT, type ReadMiss, type RemoteReads, STORE_ONLY } from './remote-reads.ts'
import { activityBasis } from './replication/op-basis.ts'
import type { ChainWrite } from './source-chain.ts'
import { entryTypeName, type RecordSource, storeRecords } from './validation/record-rules.ts'

/** What one round of a zome call reads beyond the store: what was got so far, and where misses go. */
export interface CallReads {
  remote: RemoteReads
  got: GotReads
  /** This round's misses, appended as reads miss. */
  misses: ReadMiss[]
}

/** A call that reads the store alone (no network attached, records not sharded). */
export const storeOnlyReads = (): CallReads => ({ remote: STORE_ONLY, got: NOTHING_GOT, misses: [] })

export interface GetLinksOptions {
  /** Only links whose tag starts with these bytes. */
  tag_prefix?: Uint8Array
  /** Deleted links too (what Holochain's `get_link_details` reports), oldest first. */
  include_deleted?: boolean
}

export class HdkReads {
  readonly #ctx: CellContext
  readonly #write: ChainWrite
  readonly #stored: RecordSource
  readonly #call: CallReads

  constructor(ctx: CellContext, write: ChainWrite, call: CallReads) {
    this.#ctx = ctx
    this.#write = write
    this.#stored = storeRecords(ctx.store, ctx.dnaHash)
    this.#call = call
  }

  /** By action hash: that record. By entry hash: the entry with its oldest live (undeleted) action. */
  get(hash: Uint8Array): HcRecord | null {
    const kind = holoHashKind(hash)
    if (kind === 'action') {
      const action = this.findAction(hash)
      return action && this.#record(action)
    }
    if (kind === 'entry') {
      const live = this.#actionsWritingEntry(hash).find((a) => !this.#isDeleted(a))
      return live ? this.#record(live) : null
    }
    return null
  }

  get_details(hash: Uint8Array): Details | null {
    const kind = holoHashKind(hash)
    if (kind === 'action') {
      const action = this.findAction(hash)
      if (action === null) return null
      const targeting = this.#actionsTargeting(action)
      return {
        type: DetailsTypes.Record,
        content: {
          record: this.#record(action),
          validation_status: ValidationStatuses.Valid,
          deletes: targeting.filter((a) => a.type === ActionTypes.Delete).map(toSignedActionHashed),
          updates: targeting.filter((a) => a.type === ActionTypes.Update).map(toSignedActionHashed),
        },
      }
    }
    if (kind !== 'entry') return null
    const entry = this.findEntry(hash)
    const actions = this.#actionsWritingEntry(hash)
    if (entry === null || actions.length === 0) return null
    const targeting = actions.flatMap((a) => this.#actionsTargeting(a))
    const deletes = targeting.filter((a) => a.type === ActionTypes.Delete)
    return {
      type: DetailsTypes.Entry,
      content: {
        entry:
          entry.kind === 'Agent'
            ? { entry_type: 'Agent', entry: entry.bytes }
            : { entry_type: 'App', entry: entry.bytes },
        actions: actions.map(toSignedActionHashed),
        rejected_actions: [],
        deletes: deletes.map(toSignedActionHashed),
        updates: targeting.filter((a) => a.type === ActionTypes.Update).map(toSignedActionHashed),
        entry_dht_status: actions.every((a) => this.#isDeleted(a))
          ? EntryDhtStatuses.Dead
          : EntryDhtStatuses.Live,
      },
    }
  }

  /** Follows updates from `original` to the newest; null when it does not exist or was deleted. */
  get_latest(original: Uint8Array): HcRecord | null {
    let current = this.findAction(original)
    while (current !== null) {
      // One read of what targets it answers both: deleted, or updated since.
      const targeting = this.#actionsTargeting(current)
      if (targeting.some((a) => a.type === ActionTypes.Delete)) return null
      const newest = targeting.filter((a) => a.type === ActionTypes.Update).at(-1)
      if (newest === undefined) return this.#record(current)
      current = newest
    }
    return null
  }

  /** The links of `linkType` (its index in the DNA: `type`) on `base`. */
  get_links(base: Uint8Array, linkType: string, type: number, options: GetLinksOptions = {}): Link[] {
    const prefix = options.tag_prefix ?? new Uint8Array()
    const deleted = options.include_deleted ?? false
    const stored = this.#ctx.store.getLinks({
      dnaHash: this.#ctx.dnaHash,
      base,
      linkType: type,
      tagPrefix: prefix,
      includeDeleted: deleted,
    })
    const got = this.#gotLinks(base, type, prefix, deleted, linkType)
    const pending = this.#write.items.flatMap((i) => (i.link ? [{ ...i.link, deletedBy: null }] : []))
    const deletes = this.#write.items.flatMap((i) => (i.deletesLink ? [i.deletesLink] : []))
    const far = got.filter((l) => !stored.some((s) => hashesEqual(s.createHash, l.createHash)))
    const held = far.length === 0 ? stored : [...stored, ...far].sort((a, b) => a.timestamp - b.timestamp)
    return [...held, ...pending.filter((l) => matches(l, base, type, prefix))]
      .filter((l) => deleted || !deletes.some((d) => hashesEqual(d, l.createHash)))
      .map(toLink)
  }

  /** An action of this DNA: pending, stored, or got; a miss where it lives elsewhere. */
  findAction(hash: Uint8Array): StoredAction | null {
    const found =
      this.#write.items.find((i) => hashesEqual(i.action.hash, hash))?.action ??
      this.#stored.findAction(hash) ??
      this.#call.got.records.find((r) => hashesEqual(r.action.hash, hash))?.action ??
      null
    if (found === null && this.#elsewhere(hash, null)) this.#call.misses.push({ kind: 'record', hash })
    return found
  }

  /** An entry, pending, stored or got with its record (entries travel with their actions: no miss). */
  findEntry(hash: Uint8Array): StoredEntry | null {
    const pending = this.#write.items.find((i) => i.entry && hashesEqual(i.entry.hash, hash))
    return (
      pending?.entry ??
      this.#ctx.store.getEntry(hash) ??
      this.#call.got.records.find((r) => r.entry && hashesEqual(r.entry.hash, hash))?.entry ??
      null
    )
  }

  /** The link a CreateLink wrote, pending, stored or in a link set got. */
  findLink(createHash: Uint8Array): StoredLink | null {
    const pending = this.#write.items.find((i) => i.link && hashesEqual(i.link.createHash, createHash))
    if (pending?.link) return { ...pending.link, deletedBy: null }
    const stored = this.#ctx.store.getLink(createHash)
    if (stored && hashesEqual(stored.dnaHash, this.#ctx.dnaHash)) return stored
    const got = this.#call.got.linkSets.flatMap((s) => s.links)
    return got.find((l) => hashesEqual(l.createHash, createHash)) ?? null
  }

  #record(action: StoredAction): HcRecord {
    return toRecord(action, action.entryHash && this.findEntry(action.entryHash))
  }

  /** Only this agent's own entries are got by entry hash (its private leaves): the store has them. */
  #actionsWritingEntry(entryHash: Uint8Array): StoredAction[] {
    const pending = this.#write.items
      .map((i) => i.action)
      .filter((a) => a.entryHash !== null && hashesEqual(a.entryHash, entryHash))
    return [...this.#ctx.store.actionsWritingEntry(this.#ctx.dnaHash, entryHash), ...pending]
  }

  /**
   * The updates and deletes of `action`'s record. Its holders hold them all; so does its author (the
   * rules let only a record's author update or delete it, but a policy's progenitor, and policies live
   * everywhere), and so do its author's activity holders, which hold its whole chain. Anywhere else they
   * are asked with the record, unless they came with it.
   */
  #actionsTargeting(action: StoredAction): StoredAction[] {
    const { hash } = action
    const pending = this.#write.items
      .map((i) => i.action)
      .filter((a) => a.targetAction !== null && hashesEqual(a.targetAction, hash))
    const stored = this.#ctx.store.actionsTargeting(hash)
    const gotWithIt = this.#call.got.records.some((r) => hashesEqual(r.action.hash, hash))
    const own = hashesEqual(action.author, this.#ctx.agentPubKey)
    const asked =
      !gotWithIt &&
      !own &&
      // An activity holder of its author holds the author's whole chain, what changed the record among it.
      this.#elsewhere(activityBasis(action.author), null) &&
      this.#elsewhere(hash, entryTypeName(decodeAction(action.bytes), this.#ctx.dna))
    if (asked) this.#call.misses.push({ kind: 'record', hash })
    const got = this.#call.got.records
      .map((r) => r.action)
      .filter((a) => a.targetAction !== null && hashesEqual(a.targetAction, hash))
      .filter((a) => !stored.some((s) => hashesEqual(s.hash, a.hash)))
    return [...stored, ...got, ...pending]
  }

  #isDeleted(action: StoredAction): boolean {
    return this.#actionsTargeting(action).some((a) => a.type === ActionTypes.Delete)
  }

  /** The links got for exactly this query, or a miss when the base lives elsewhere and none were got. */
  #gotLinks(
    base: Uint8Array,
    type: number,
    prefix: Uint8Array,
    deleted: boolean,
    name: string,
  ): StoredLink[] {
    const set = this.#call.got.linkSets.find(
      ({ miss }) =>
        hashesEqual(miss.base, base) &&
        miss.linkType === type &&
        hashesEqual(miss.tagPrefix, prefix) &&
        miss.deleted === deleted,
    )
    // A holder may have answered a live list with what deleted some: only live ones are asked for then.
    if (set) return set.links.filter((l) => deleted || l.deletedBy === null)
    if (this.#elsewhere(base, name))
      this.#call.misses.push({ kind: 'links', base, linkType: type, tagPrefix: prefix, deleted })
    return []
  }

  #elsewhere(basis: Uint8Array, typeName: string | null): boolean {
    return this.#call.remote.elsewhere(this.#ctx.dna.name, basis, typeName)
  }
}

/** Whether a pending link is on `base`, of `type`, with a tag starting with `prefix`. */
function matches(
  link: Omit<StoredLink, 'deletedBy'>,
  base: Uint8Array,
  type: number,
  prefix: Uint8Array,
): boolean {
  return (
    hashesEqual(link.base, base) &&
    link.linkType === type &&
    link.tag.length >= prefix.length &&
    hashesEqual(link.tag.subarray(0, prefix.length), prefix)
  )
}
