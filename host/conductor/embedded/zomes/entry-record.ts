/** Records as the contract's zome functions return them (HoloHashB64 strings, decoded entry). */
import type { Record as HcRecord } from '@holochain/client'
import type { EntryRecord, RecordRef } from '../../../../zomes-bindings/index.ts'
import { encodeHashB64 } from '../../../identity/hash.ts'
import type { Hdk } from '../hdk.ts'

export function toEntryRecord<T>(hdk: Hdk, record: HcRecord): EntryRecord<T> {
  const { hash, content } = record.signed_action.hashed
  return {
    action_hash: encodeHashB64(hash),
    author: encodeHashB64(content.author),
    timestamp: content.timestamp,
    entry: hdk.entry_of<T>(record) as T,
  }
}

/** The RecordRef of a Create/Update just written (or read back). */
export function toRecordRef(record: HcRecord): RecordRef {
  const content = record.signed_action.hashed.content
  if (!('entry_hash' in content)) throw new TypeError('a RecordRef needs a Create or Update record')
  return {
    action_hash: encodeHashB64(record.signed_action.hashed.hash),
    entry_hash: encodeHashB64(content.entry_hash),
  }
}

/**
 * The record `hash` names as an EntryRecord when it is a live (undeleted) `entryType` entry, else
 * null. Links can be written by anyone and point anywhere: readers check what a link leads to.
 */
export function liveEntryRecord<T>(hdk: Hdk, hash: Uint8Array, entryType: string): EntryRecord<T> | null {
  const record = hdk.get_latest(hash)
  if (record === null || hdk.entry_type_of(record) !== entryType) return null
  return toEntryRecord<T>(hdk, record)
}

/**
 * The live records of `entryType` that links of `linkType` from `base` lead to (only links whose tag
 * starts with `tagPrefix`, when given), oldest first.
 */
export function linkedRecords<T>(
  hdk: Hdk,
  base: Uint8Array,
  linkType: string,
  entryType: string,
  tagPrefix?: Uint8Array,
): EntryRecord<T>[] {
  const byHash = new Map<string, EntryRecord<T>>()
  for (const link of hdk.get_links(base, linkType, { tag_prefix: tagPrefix })) {
    const record = liveEntryRecord<T>(hdk, link.target, entryType)
    if (record) byHash.set(record.action_hash, record)
  }
  return [...byHash.values()].sort((a, b) => a.timestamp - b.timestamp)
}

/** Writes an entry and files it under an anchor, where readers list it with `linkedRecords`. */
export function createUnderAnchor(
  hdk: Hdk,
  anchor: string,
  entryType: string,
  entry: unknown,
  linkType: string,
): RecordRef {
  const hash = hdk.create_entry(entryType, entry)
  hdk.create_link(hdk.anchor(anchor), hash, linkType)
  return toRecordRef(hdk.get(hash)!)
}
