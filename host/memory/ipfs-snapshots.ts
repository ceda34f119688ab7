/** Shard snapshots on this peer's IPFS: added and pinned here, fetched (checked per block) by a new holder. */
import { CID } from 'multiformats/cid'
import { DEFAULT_IMPORT_PROFILE } from '../ipfs/import-profile.ts'
import type { IpfsStore } from '../ipfs/ipfs-store.ts'
import type { SnapshotStore } from './memory-service.ts'

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
      const chunks: Uint8Array[] = []
      for await (const chunk of ipfs.cat(CID.parse(cid), { signal })) chunks.push(chunk)
      return Buffer.concat(chunks)
    },
  }
}
