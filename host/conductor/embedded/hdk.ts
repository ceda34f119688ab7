/**
 * The HDK as coordinator zomes see it inside one zome call of one cell: writes validated by the rules
 * and held in the call's ChainWrite, reads that see those pending writes over the store.
 * Names and shapes follow Holochain's HDK and `@holochain/client` types.
 */
import type { Action, Details, EntryType, Record as HcRecord, Link } from '@holochain/client'
import { decodeMsgpack, encodeCanonical } from '../../identity/canonical.ts'
import { encodeHashB64, hashContent, hashesEqual, holoHashKind } from '../../identity/hash.ts'
import type { ChainStore, StoredAction, StoredEntry, StoredLink } from '../../storage/chain-store.ts'
import { decodeAction, entryHashOf } from './action.ts'
import { type DnaDef, visibilityOf } from './dna.ts'
import { keyedEntry } from './entry-keys.ts'
import { RecordNotFoundError, UnknownTypeError } from './errors.ts'
import { ActionTypes, DetailsTypes, EntryDhtStatuses, ValidationStatuses } from './hc-enums.ts'
import { toLink, toRecord, toSignedActionHashed } from './record.ts'
import type { ChainWrite } from './source-chain.ts'
import type { AgentStanding } from './validation/agent-standing.ts'
import {
  checkEntryRules,
  entryTypeName,
  type RecordSource,
  type RulesContext,
  resolveDependency,
  storeRecords,
} from './validation/record-rules.ts'
import type { ResolvedDependency, RulesValidator, ValidationInput } from './validation/validator.ts'

/** The single integrity zome of each DNA. */
const ZOME_INDEX = 0

export interface CellContext {
  dna: DnaDef
  dnaHash: Uint8Array
  agentPubKey: Uint8Array
  store: ChainStore
  validator: RulesValidator
  properties: Record<string, unknown>
  standing: AgentStanding
}

export interface AgentInfo {
  agent_initial_pubkey: Uint8Array
  agent_latest_pubkey: Uint8Array
  chain_head: { action: Uint8Array; sequence: number; timestamp: number }
}

export interface GetLinksOptions {
  /** Only links whose tag starts with these bytes. */
  tag_prefix?: Uint8Array
  /** Deleted links too (what Holochain's `get_link_details` reports), oldest first. */
  include_deleted?: boolean
}

export class Hdk {
  readonly #ctx: CellContext
  readonly #write: ChainWrite
  readonly #stored: RecordSource
  readonly #rules: RulesContext

  constructor(ctx: CellContext, write: ChainWrite) {
    this.#ctx = ctx
    this.#write = write
    this.#stored = storeRecords(ctx.store, ctx.dnaHash)
    this.#rules = {
      validator: ctx.validator,
      dna: ctx.dna,
      properties: ctx.properties,
      source: {
        findAction: (hash) => this.#findAction(hash),
        findEntry: (hash) => this.#findEntry(hash),
        genesisProof: (author) => this.#stored.genesisProof(author),
        inviteUses: (inviteId) => this.#stored.inviteUses(inviteId),
        admittedAt: (author) => this.#stored.admittedAt(author),
      },
      standing: ctx.standing,
    }
  }

  agent_info(): AgentInfo {
    const head = this.#write.head
    return {
      agent_initial_pubkey: this.#ctx.agentPubKey,
      agent_latest_pubkey: this.#ctx.agentPubKey,
      chain_head: { action: head.hash, sequence: head.seq, timestamp: head.timestamp },
    }
  }

  /** The hash of a path anchor (e.g. "all_nodes", "tag:gpu"), a base that needs no stored entry. */
  anchor(path: string): Uint8Array {
    return hashContent(encodeCanonical(['anchor', path]), 'entry')
  }

  /** Stamps this call's writes from now on with this instant (ChainWrite.holdTime). */
  hold_time(): void {
    this.#write.holdTime()
  }

  /** Validates and writes an app entry; returns the Create action's hash. */
  create_entry(entryType: string, entry: unknown): Uint8Array {
    const type = this.#appEntryType(entryType)
    const bytes = encodeCanonical(entry)
    const decoded = decodeMsgpack(bytes)
    this.#validate({ entry_type: entryType, op: 'create', entry: decoded })
    const signed = this.#write.append(
      { type: ActionTypes.Create, entry_type: type, entry_hash: entryHashOf(bytes) },
      { kind: 'App', bytes },
      keyedEntry(this.#ctx.dna, entryType, decoded),
    )
    return signed.hash
  }

  /** Validates and writes a new version of the entry `original` (a Create or Update) wrote. */
  update_entry(original: Uint8Array, entry: unknown): Uint8Array {
    const orig = this.#appEntryAction(original)
    const bytes = encodeCanonical(entry)
    const decoded = decodeMsgpack(bytes)
    this.#validate({
      entry_type: orig.entryType,
      op: 'update',
      entry: decoded,
      original: this.#resolve(original)!,
    })
    const signed = this.#write.append(
      {
        type: ActionTypes.Update,
        original_action_address: original,
        original_entry_address: orig.entryHash,
        entry_type: this.#appEntryType(orig.entryType),
        entry_hash: entryHashOf(bytes),
      },
      { kind: 'App', bytes },
      keyedEntry(this.#ctx.dna, orig.entryType, decoded),
    )
    return signed.hash
  }

  delete_entry(actionHash: Uint8Array): Uint8Array {
    const orig = this.#appEntryAction(actionHash)
    this.#validate({
      entry_type: orig.entryType,
      op: 'delete',
      entry: null,
      original: this.#resolve(actionHash)!,
    })
    return this.#write.append({
      type: ActionTypes.Delete,
      deletes_address: actionHash,
      deletes_entry_address: orig.entryHash,
    }).hash
  }

  create_link(
    base: Uint8Array,
    target: Uint8Array,
    linkType: string,
    tag: Uint8Array = new Uint8Array(),
  ): Uint8Array {
    return this.#write.append({
      type: ActionTypes.CreateLink,
      base_address: base,
      target_address: target,
      zome_index: ZOME_INDEX,
      link_type: this.#linkTypeIndex(linkType),
      tag,
      weight: { bucket_id: 0, units: 0 },
    }).hash
  }

  delete_link(createLinkHash: Uint8Array): Uint8Array {
    const link = this.#findLink(createLinkHash)
    if (link === null) throw new RecordNotFoundError(`no link created by ${encodeHashB64(createLinkHash)}`)
    return this.#write.append({
      type: ActionTypes.DeleteLink,
      base_address: link.base,
      link_add_address: createLinkHash,
    }).hash
  }

  /** By action hash: that record. By entry hash: the entry with its oldest live (undeleted) action. */
  get(hash: Uint8Array): HcRecord | null {
    const kind = holoHashKind(hash)
    if (kind === 'action') {
      const action = this.#findAction(hash)
      return action && this.#record(action)
    }
    if (kind === 'entry') {
      const live = this.#actionsWritingEntry(hash).find((a) => !this.#isDeleted(a.hash))
      return live ? this.#record(live) : null
    }
    return null
  }

  get_details(hash: Uint8Array): Details | null {
    const kind = holoHashKind(hash)
    if (kind === 'action') {
      const action = this.#findAction(hash)
      if (action === null) return null
      const targeting = this.#actionsTargeting(hash)
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
    const entry = this.#findEntry(hash)
    const actions = this.#actionsWritingEntry(hash)
    if (entry === null || actions.length === 0) return null
    const targeting = actions.flatMap((a) => this.#actionsTargeting(a.hash))
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
        entry_dht_status: actions.every((a) => this.#isDeleted(a.hash))
          ? EntryDhtStatuses.Dead
          : EntryDhtStatuses.Live,
      },
    }
  }

  /** Follows updates from `original` to the newest; null when it does not exist or was deleted. */
  get_latest(original: Uint8Array): HcRecord | null {
    let current = this.#findAction(original)
    while (current !== null) {
      // One read of what targets it answers both: deleted, or updated since.
      const targeting = this.#actionsTargeting(current.hash)
      if (targeting.some((a) => a.type === ActionTypes.Delete)) return null
      const newest = targeting.filter((a) => a.type === ActionTypes.Update).at(-1)
      if (newest === undefined) return this.#record(current)
      current = newest
    }
    return null
  }

  get_links(base: Uint8Array, linkType: string, options: GetLinksOptions = {}): Link[] {
    const type = this.#linkTypeIndex(linkType)
    const prefix = options.tag_prefix ?? new Uint8Array()
    const stored = this.#ctx.store.getLinks({
      dnaHash: this.#ctx.dnaHash,
      base,
      linkType: type,
      tagPrefix: prefix,
      includeDeleted: options.include_deleted,
    })
    const pending = this.#write.items.flatMap((i) => (i.link ? [{ ...i.link, deletedBy: null }] : []))
    const deleted = this.#write.items.flatMap((i) => (i.deletesLink ? [i.deletesLink] : []))
    return [...stored, ...pending.filter((l) => matches(l, base, type, prefix))]
      .filter((l) => options.include_deleted || !deleted.some((d) => hashesEqual(d, l.createHash)))
      .map(toLink)
  }

  /** The decoded app entry of a record, or null when it carries none. */
  entry_of<T = unknown>(record: HcRecord): T | null {
    if (!('Present' in record.entry) || record.entry.Present.entry_type !== 'App') return null
    return decodeMsgpack(record.entry.Present.entry) as T
  }

  /**
   * The newest of this agent's committed entries of `entryType` with `key` among its keys (the DNA's
   * `entryKeys` name them; private entries included, as only their author holds them), found through
   * the store's index: one look-up at any chain length, a miss included.
   */
  find_keyed(entryType: string, key: string): HcRecord | null {
    const { store, dna, dnaHash, agentPubKey } = this.#ctx
    if (dna.entryKeys?.[entryType] === undefined)
      throw new UnknownTypeError(`${dna.name} looks no ${entryType} up by key`)
    const action = store.findKeyed(dnaHash, agentPubKey, entryType, key)
    return action && this.#record(action)
  }

  /** This agent's committed entries of `entryType` with a key in [`from`, `to`), oldest first, through the index. */
  find_keyed_range(entryType: string, from: string, to: string): HcRecord[] {
    const { store, dna, dnaHash, agentPubKey } = this.#ctx
    if (dna.entryKeys?.[entryType] === undefined)
      throw new UnknownTypeError(`${dna.name} looks no ${entryType} up by key`)
    return store.findKeyedRange(dnaHash, agentPubKey, entryType, from, to).map((a) => this.#record(a))
  }

  /** This agent's committed records of `entryType`, oldest first: a walk of its whole chain, for rare reads. */
  query(entryType: string): HcRecord[] {
    const { store, dnaHash, agentPubKey } = this.#ctx
    const records: HcRecord[] = []
    for (const action of store.chainActions(dnaHash, agentPubKey))
      if (action.entryHash !== null && this.#entryTypeName(decodeAction(action.bytes)) === entryType)
        records.push(this.#record(action))
    return records
  }

  /** The app entry type name (as the contract names it) a Create/Update record wrote, or null. */
  entry_type_of(record: HcRecord): string | null {
    const name = this.#entryTypeName(record.signed_action.hashed.content)
    return name === 'Agent' ? null : name
  }

  #validate(op: Pick<ValidationInput, 'entry_type' | 'op' | 'entry' | 'original'>): void {
    checkEntryRules(this.#rules, this.#ctx.agentPubKey, op)
  }

  /** A record in this DNA as the rules see a dependency. */
  #resolve(actionHash: Uint8Array): ResolvedDependency | null {
    return resolveDependency(this.#rules, actionHash)
  }

  #appEntryAction(actionHash: Uint8Array): { entryType: string; entryHash: Uint8Array } {
    const stored = this.#findAction(actionHash)
    if (stored === null)
      throw new RecordNotFoundError(`no action ${encodeHashB64(actionHash)} in ${this.#ctx.dna.name}`)
    const action = decodeAction(stored.bytes)
    const entryType = this.#entryTypeName(action)
    if (entryType === null || entryType === 'Agent' || stored.entryHash === null) {
      throw new RecordNotFoundError(`action ${encodeHashB64(actionHash)} did not write an app entry`)
    }
    return { entryType, entryHash: stored.entryHash }
  }

  #entryTypeName(action: Action): string | null {
    return entryTypeName(action, this.#ctx.dna)
  }

  #appEntryType(name: string): EntryType {
    const entryIndex = this.#ctx.dna.entryTypes.indexOf(name)
    if (entryIndex < 0) throw new UnknownTypeError(`${this.#ctx.dna.name} has no entry type ${name}`)
    return {
      App: { entry_index: entryIndex, zome_index: ZOME_INDEX, visibility: visibilityOf(this.#ctx.dna, name) },
    }
  }

  #linkTypeIndex(name: string): number {
    const index = this.#ctx.dna.linkTypes.indexOf(name)
    if (index < 0) throw new UnknownTypeError(`${this.#ctx.dna.name} has no link type ${name}`)
    return index
  }

  #record(action: StoredAction): HcRecord {
    return toRecord(action, action.entryHash && this.#findEntry(action.entryHash))
  }

  #findAction(hash: Uint8Array): StoredAction | null {
    const pending = this.#write.items.find((i) => hashesEqual(i.action.hash, hash))
    return pending ? pending.action : this.#stored.findAction(hash)
  }

  #findEntry(hash: Uint8Array): StoredEntry | null {
    const pending = this.#write.items.find((i) => i.entry && hashesEqual(i.entry.hash, hash))
    return pending?.entry ?? this.#ctx.store.getEntry(hash)
  }

  #findLink(createHash: Uint8Array): StoredLink | null {
    const pending = this.#write.items.find((i) => i.link && hashesEqual(i.link.createHash, createHash))
    if (pending?.link) return { ...pending.link, deletedBy: null }
    const stored = this.#ctx.store.getLink(createHash)
    return stored && hashesEqual(stored.dnaHash, this.#ctx.dnaHash) ? stored : null
  }

  #actionsWritingEntry(entryHash: Uint8Array): StoredAction[] {
    const pending = this.#write.items
      .map((i) => i.action)
      .filter((a) => a.entryHash !== null && hashesEqual(a.entryHash, entryHash))
    return [...this.#ctx.store.actionsWritingEntry(this.#ctx.dnaHash, entryHash), ...pending]
  }

  #actionsTargeting(actionHash: Uint8Array): StoredAction[] {
    const pending = this.#write.items
      .map((i) => i.action)
      .filter((a) => a.targetAction !== null && hashesEqual(a.targetAction, actionHash))
    return [...this.#ctx.store.actionsTargeting(actionHash), ...pending]
  }

  #isDeleted(actionHash: Uint8Array): boolean {
    return this.#actionsTargeting(actionHash).some((a) => a.type === ActionTypes.Delete)
  }
}

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
