/**
 * The HDK as coordinator zomes see it inside one zome call of one cell: writes validated by the rules
 * and held in the call's ChainWrite; reads (hdk-reads.ts) see those pending writes over the store, and
 * beside it what the call got from holders where records are sharded.
 * Names and shapes follow Holochain's HDK and `@holochain/client` types.
 */
import type { Action, Details, EntryType, Record as HcRecord, Link } from '@holochain/client'
import { decodeMsgpack, encodeCanonical } from '../../identity/canonical.ts'
import { encodeHashB64, hashContent } from '../../identity/hash.ts'
import type { StoredAction } from '../../storage/chain-store.ts'
import { decodeAction, entryHashOf } from './action.ts'
import type { CellContext } from './cell-context.ts'
import { visibilityOf } from './dna.ts'
import { keyedEntry } from './entry-keys.ts'
import { RecordNotFoundError, UnknownTypeError } from './errors.ts'
import { ActionTypes } from './hc-enums.ts'
import { type CallReads, type GetLinksOptions, HdkReads, storeOnlyReads } from './hdk-reads.ts'
import { toRecord } from './record.ts'
import type { ChainWrite } from './source-chain.ts'
import {
  checkEntryRules,
  entryTypeName,
  type RulesContext,
  resolveDependency,
  storeRecords,
} from './validation/record-rules.ts'
import type { ResolvedDependency, ValidationInput } from './validation/validator.ts'

/** The single integrity zome of each DNA. */
const ZOME_INDEX = 0

export interface AgentInfo {
  agent_initial_pubkey: Uint8Array
  agent_latest_pubkey: Uint8Array
  chain_head: { action: Uint8Array; sequence: number; timestamp: number }
}

export class Hdk {
  readonly #ctx: CellContext
  readonly #write: ChainWrite
  readonly #reads: HdkReads
  readonly #rules: RulesContext

  constructor(ctx: CellContext, write: ChainWrite, call: CallReads = storeOnlyReads()) {
    this.#ctx = ctx
    this.#write = write
    this.#reads = new HdkReads(ctx, write, call)
    const stored = storeRecords(ctx.store, ctx.dnaHash)
    this.#rules = {
      validator: ctx.validator,
      dna: ctx.dna,
      properties: ctx.properties,
      source: {
        findAction: (hash) => this.#reads.findAction(hash),
        findEntry: (hash) => this.#reads.findEntry(hash),
        genesisProof: (author) => stored.genesisProof(author),
        inviteUses: (inviteId) => stored.inviteUses(inviteId),
        admittedAt: (author) => stored.admittedAt(author),
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
    const link = this.#reads.findLink(createLinkHash)
    if (link === null) throw new RecordNotFoundError(`no link created by ${encodeHashB64(createLinkHash)}`)
    return this.#write.append({
      type: ActionTypes.DeleteLink,
      base_address: link.base,
      link_add_address: createLinkHash,
    }).hash
  }

  /** By action hash: that record. By entry hash: the entry with its oldest live (undeleted) action. */
  get(hash: Uint8Array): HcRecord | null {
    return this.#reads.get(hash)
  }

  get_details(hash: Uint8Array): Details | null {
    return this.#reads.get_details(hash)
  }

  /** Follows updates from `original` to the newest; null when it does not exist or was deleted. */
  get_latest(original: Uint8Array): HcRecord | null {
    return this.#reads.get_latest(original)
  }

  get_links(base: Uint8Array, linkType: string, options: GetLinksOptions = {}): Link[] {
    return this.#reads.get_links(base, linkType, this.#linkTypeIndex(linkType), options)
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
    const stored = this.#reads.findAction(actionHash)
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
    return toRecord(action, action.entryHash && this.#reads.findEntry(action.entryHash))
  }
}
