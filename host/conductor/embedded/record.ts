/**
 * Stored rows as `@holochain/client` shapes: Record, SignedActionHashed, Link. Record entries follow
 * the client's types: `{ Present: Entry }` for entry actions, `{ NotApplicable: undefined }` otherwise.
 */
import type { Record as HcRecord, Link, SignedActionHashed } from '@holochain/client'
import type { StoredAction, StoredEntry, StoredLink } from '../../storage/chain-store.ts'
import { decodeAction } from './action.ts'

export function toSignedActionHashed(action: StoredAction): SignedActionHashed {
  return { hashed: { hash: action.hash, content: decodeAction(action.bytes) }, signature: action.signature }
}

export function toRecord(action: StoredAction, entry: StoredEntry | null): HcRecord {
  const signed_action = toSignedActionHashed(action)
  if (action.entryHash === null) return { signed_action, entry: { NotApplicable: undefined } }
  if (entry === null) return { signed_action, entry: { NotStored: undefined } }
  return {
    signed_action,
    entry: {
      Present:
        entry.kind === 'Agent'
          ? { entry_type: 'Agent', entry: entry.bytes }
          : { entry_type: 'App', entry: entry.bytes },
    },
  }
}

export function toLink(link: StoredLink): Link {
  return {
    author: link.author,
    base: link.base,
    target: link.target,
    timestamp: link.timestamp,
    zome_index: link.zomeIndex,
    link_type: link.linkType,
    tag: link.tag,
    create_link_hash: link.createHash,
  }
}
