/** Shard snapshots on this peer's IPFS: added and pinned here, fetched (checked per block) by a new holder. */
import { CID } from 'multiformats/cid'
import { DEFAULT_IMPORT_PROFILE } from '../ipfs/import-profile.ts'
import type { IpfsStore } from '../ipfs/ipfs-store.ts'
import { resumingFetch } from '../ipfs/resuming-fetch.ts'
import { SnapshotUnavailableError } from './memory-errors.ts'
import type { SnapshotStore } from './shard-snapshots.ts'

/** A fetch that brings nothing this long is asked again; nothing at all for IDLE_MS, and it fails. */
const RETRY_AFTER_MS = 5_000
const IDLE_MS = 60_000

export function ipfsSnapshotStore(ipfs: IpfsStore): SnapshotStore {
  return {
    async put(bytes, signal) {
      const cid = await ipfs.add(
        (async function* () {
          yield bytes
        })(),
        { profile: DEFAULT_IMPORT_PROFILE, signal },
      )
      await ipfs.pin(cid, { signal })
      return cid.toString()
    },
    async get(cid, signal) {
      const parsed = CID.parse(cid)
      const chunks: Uint8Array[] = []
      const source = resumingFetch((offset, attempt) => ipfs.cat(parsed, { offset, signal: attempt }), {
        retryAfterMs: RETRY_AFTER_MS,
        idleMs: IDLE_MS,
        onIdle: () => new SnapshotUnavailableError(cid, IDLE_MS),
        signal,
      })
      for await (const chunk of source) chunks.push(chunk)
      return Buffer.concat(chunks)
    },
  }
}
