/**
 * Actions, as `@holochain/client` types them, and the bytes behind them.
 *
 * Action hash = blake2b-256 of the canonical msgpack of the action content (identity/canonical.ts);
 * the signature is Ed25519 over those same bytes.
 *
 * App entries: the entry bytes are the msgpack of the entry's own fields (no `type` tag), as Holochain
 * stores an `#[hdk_entry_helper]` struct; the entry type is named by the action's
 * `entry_type.App.entry_index` into the DNA's entry type list. So `decode(record.entry.Present.entry)`
 * gives the same object from this conductor and from a real one. Entry hash = blake2b-256 of those bytes.
 */
import type { Action } from '@holochain/client'
import { decodeMsgpack, encodeCanonical } from '../../identity/canonical.ts'
import { hashContent, retypeHash } from '../../identity/hash.ts'
import type { AgentKey } from '../../identity/keystore.ts'
import type { CommitItem, StoredAction, StoredEntry } from '../../storage/chain-store.ts'
import { ActionTypes } from './hc-enums.ts'

export function entryHashOf(entryBytes: Uint8Array): Uint8Array {
  return hashContent(entryBytes, 'entry')
}

/** The hash of an app entry (its bytes hashed) or of an agent entry (the agent key retyped). */
export function entryHashOfKind(kind: StoredEntry['kind'], bytes: Uint8Array): Uint8Array {
  return kind === 'Agent' ? retypeHash(bytes, 'entry') : entryHashOf(bytes)
}

/** An action with its hash, the exact bytes hashed and signed, and the signature. */
export interface SignedAction {
  hash: Uint8Array
  content: Action
  bytes: Uint8Array
  signature: Uint8Array
}

export function signAction(content: Action, key: AgentKey): SignedAction {
  const bytes = encodeCanonical(content)
  return { hash: hashContent(bytes, 'action'), content, bytes, signature: key.sign(bytes) }
}

/** The Dna action is seq 0 and has no previous action; every other action carries both. */
export function actionSeq(action: Action): number {
  return action.type === ActionTypes.Dna ? 0 : action.action_seq
}

export function prevActionOf(action: Action): Uint8Array | null {
  return action.type === ActionTypes.Dna ? null : action.prev_action
}

export function entryHashOfAction(action: Action): Uint8Array | null {
  return action.type === ActionTypes.Create || action.type === ActionTypes.Update ? action.entry_hash : null
}

/** The action an Update, Delete or DeleteLink points at (indexed for get_details and link deletes). */
export function targetActionOf(action: Action): Uint8Array | null {
  switch (action.type) {
    case ActionTypes.Update:
      return action.original_action_address
    case ActionTypes.Delete:
      return action.deletes_address
    case ActionTypes.DeleteLink:
      return action.link_add_address
    default:
      return null
  }
}

export function toStoredAction(signed: SignedAction, dnaHash: Uint8Array): StoredAction {
  const { content } = signed
  return {
    hash: signed.hash,
    dnaHash,
    author: content.author,
    seq: actionSeq(content),
    type: content.type,
    timestamp: content.timestamp,
    entryHash: entryHashOfAction(content),
    targetAction: targetActionOf(content),
    bytes: signed.bytes,
    signature: signed.signature,
  }
}

/**
 * What storing one signed action writes: the action, its entry, and for links the index row (or the
 * link it deletes), all derived from the signed content. The local writer and replication both use it.
 */
export function toCommitItem(content: Action, action: StoredAction, entry: StoredEntry | null): CommitItem {
  const item: CommitItem = { action }
  if (entry) item.entry = entry
  if (content.type === ActionTypes.CreateLink) {
    item.link = {
      createHash: action.hash,
      dnaHash: action.dnaHash,
      base: content.base_address,
      target: content.target_address,
      zomeIndex: content.zome_index,
      linkType: content.link_type,
      tag: content.tag,
      author: content.author,
      timestamp: content.timestamp,
    }
  }
  if (content.type === ActionTypes.DeleteLink) item.deletesLink = content.link_add_address
  return item
}

/** A Create/Update of a private app entry: the entry stays on its author's chain; the action travels alone. */
export function writesPrivateEntry(action: Action): boolean {
  return (
    (action.type === ActionTypes.Create || action.type === ActionTypes.Update) &&
    typeof action.entry_type === 'object' &&
    'App' in action.entry_type &&
    action.entry_type.App.visibility === 'Private'
  )
}

/**
 * Decodes stored action bytes; the caller has checked them against their hash. Decoded once per bytes
 * held: the store hands out the same rows again and again (a task's records at each read of it, a
 * rule's dependencies), and a decode cost more than the rest of such a read. Frozen, as every
 * reader of the row shares it.
 */
export function decodeAction(bytes: Uint8Array): Action {
  let action = decodedActions.get(bytes)
  if (action === undefined) {
    action = frozen(decodeMsgpack(bytes)) as Action
    decodedActions.set(bytes, action)
  }
  return action
}

const decodedActions = new WeakMap<Uint8Array, Action>()

/** `value` and everything in it frozen (byte arrays aside: they cannot be). */
function frozen<T>(value: T): T {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value
  for (const inner of Object.values(value)) frozen(inner)
  return Object.freeze(value)
}
