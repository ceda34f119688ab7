/**
 * The IPFS a peer uses: embedded Helia on its own libp2p node, or a Kubo daemon over its RPC API.
 * Both import with the same profile, so both give the same CID for the same bytes.
 */
import type { CID } from 'multiformats/cid'
import type { ImportProfile } from './import-profile.ts'

export interface AddContentOptions {
  profile: ImportProfile
  signal?: AbortSignal
}

export interface CatOptions {
  signal?: AbortSignal
  /** Start at this byte (a transfer resumed). */
  offset?: number
  /** At most this many bytes. */
  length?: number
  /** Only what this peer holds: fail rather than ask the network. */
  offline?: boolean
}

export interface IpfsStore {
  readonly kind: 'helia' | 'kubo'
  /** Imports the bytes (streamed) and returns the root CID; the blocks stay unpinned until `pin`. */
  add(content: AsyncIterable<Uint8Array>, options: AddContentOptions): Promise<CID>
  /** The file's bytes, fetched from peers as needed; every block is checked against its CID. */
  cat(cid: CID, options?: CatOptions): AsyncIterable<Uint8Array>
  /** Pins the whole DAG, fetching missing blocks. */
  pin(cid: CID, options?: { signal?: AbortSignal }): Promise<void>
  unpin(cid: CID): Promise<void>
  isPinned(cid: CID): Promise<boolean>
  /** Removes every block no pin needs. */
  gc(): Promise<void>
  stop(): Promise<void>
}
