/**
 * Writing one CommitItem into the SQLite chain store's tables: the action row (in the chain, or held
 * out of chain order), its entry, its link row or the link it deletes, its entry keys. An action
 * already held that its chain now reaches is promoted: its row stays, marked part of the chain.
 */
import { type CommitItem, SeqTakenError } from './chain-store.ts'
import { buf, nullableBuf } from './sqlite-rows.ts'
import type { Statements } from './sqlite-schema.ts'

/** How an item was written: a new row, or a held row of the same action now in the chain. */
export type Written = 'inserted' | 'promoted'

export function writeItem(s: Statements, item: CommitItem, held: boolean): Written {
  const { action, entry, link, deletesLink } = item
  const hash = buf(action.hash)
  try {
    s.insertAction.run({
      hash,
      dna_hash: buf(action.dnaHash),
      author: buf(action.author),
      seq: action.seq,
      type: action.type,
      timestamp: action.timestamp,
      entry_hash: nullableBuf(action.entryHash),
      target_action: nullableBuf(action.targetAction),
      bytes: buf(action.bytes),
      signature: buf(action.signature),
      held: held ? 1 : 0,
    })
  } catch (err) {
    // Tried after the insert, not before: a chain append (every commit) pays nothing for it.
    if (held || !isKeyClash(err)) throw err
    if (s.promote.run(hash).changes === 0) {
      // Its seq is another action's: the caller judges the fork.
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new SeqTakenError(action.seq)
      throw err
    }
    // Its entry, link and link deletion were written when it was held.
    writeKeys(s, item)
    return 'promoted'
  }
  if (entry) s.insertEntry.run(buf(entry.hash), entry.kind, buf(entry.bytes))
  if (link) {
    s.insertLink.run({
      create_hash: buf(link.createHash),
      dna_hash: buf(link.dnaHash),
      base: buf(link.base),
      target: buf(link.target),
      zome_index: link.zomeIndex,
      link_type: link.linkType,
      tag: buf(link.tag),
      author: buf(link.author),
      timestamp: link.timestamp,
    })
  }
  if (deletesLink) s.deleteLink.run(hash, buf(deletesLink))
  // The entry-key index is of chains: a held op is looked up by hash only.
  if (!held) writeKeys(s, item)
  return 'inserted'
}

function writeKeys(s: Statements, { action, keyed }: CommitItem): void {
  for (const key of keyed?.keys ?? [])
    s.insertKey.run(
      buf(action.dnaHash),
      buf(action.author),
      keyed!.entryType,
      key,
      action.seq,
      buf(action.hash),
    )
}

/** Its hash or its seq is taken: promoted if a held row of this very hash is what took it. */
const isKeyClash = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE'
}
