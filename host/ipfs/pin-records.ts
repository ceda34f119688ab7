/**
 * A mend for Helia's pin records. Helia keeps, per block, a record of the pins that hold it (a count
 * and the pinning CIDs). In Helia 7.1, `pins.rm` filters that list the wrong way round: it keeps only
 * the CID being unpinned. A later pin of the same CID then finds itself listed, skips those blocks, and
 * their count ends one short, so unpinning the other artifact that shares a block leaves it counted by
 * nobody and garbage collection deletes a block of an artifact still pinned. After an unpin the CID
 * is taken out of the records of the blocks it released; counts are Helia's and stay as they are
 * (harmless once Helia filters right: the CID is then already gone).
 */
import { decode, encode } from 'cborg'
import { type Datastore, Key } from 'interface-datastore'
import { base36 } from 'multiformats/bases/base36'
import type { CID } from 'multiformats/cid'

/** Helia's own key for a block's pin record. */
const recordKey = (block: CID) => new Key(`/pinned-block/${base36.encode(block.multihash.bytes)}`)

interface PinRecord {
  pinCount: number
  pinnedBy: Uint8Array[]
}

/** Removes `unpinned` from the pin records of `blocks` (the blocks Helia's `pins.rm` walked). */
export async function forgetPinner(
  datastore: Datastore,
  unpinned: CID,
  blocks: readonly CID[],
): Promise<void> {
  const unpinnedBytes = Buffer.from(unpinned.bytes)
  for (const block of blocks) {
    const key = recordKey(block)
    // The last pin of a block takes its record with it.
    if (!(await datastore.has(key))) continue
    const record = decode(await datastore.get(key)) as PinRecord
    const pinnedBy = record.pinnedBy.filter((pinner) => !unpinnedBytes.equals(pinner))
    if (pinnedBy.length === record.pinnedBy.length) continue
    await datastore.put(key, encode({ ...record, pinnedBy }))
  }
}
