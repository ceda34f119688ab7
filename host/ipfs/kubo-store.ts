/**
 * IPFS through a Kubo daemon's RPC API (`--ipfs kubo[:url]`). Every import parameter of the profile is
 * sent explicitly, so the CID does not depend on the daemon's own Import config.
 */
import { type AddOptions, create, type KuboRPCClient } from 'kubo-rpc-client'
import type { CID } from 'multiformats/cid'
import { PROFILE_SETTINGS } from './import-profile.ts'
import { DEFAULT_KUBO_URL } from './ipfs-choice.ts'
import type { AddContentOptions, CatOptions, IpfsStore } from './ipfs-store.ts'

export function kuboStore(url: string = DEFAULT_KUBO_URL): IpfsStore & { client: KuboRPCClient } {
  const client = create({ url })
  return {
    kind: 'kubo',
    client,
    async add(content: AsyncIterable<Uint8Array>, options: AddContentOptions) {
      const s = PROFILE_SETTINGS[options.profile]
      // Extra keys go out as query parameters, kebab-cased (`max-file-links`, Kubo >= 0.40).
      const params: AddOptions & { maxFileLinks: number } = {
        cidVersion: s.cidVersion,
        rawLeaves: s.rawLeaves,
        chunker: `size-${s.chunkSize}`,
        hashAlg: 'sha2-256',
        trickle: false,
        pin: false,
        wrapWithDirectory: false,
        maxFileLinks: s.maxLinks,
        signal: options.signal,
      }
      return (await client.add(content, params)).cid
    },
    cat(cid: CID, options: CatOptions = {}) {
      // `offline` is Kubo's global flag: answer from the local repo only.
      const { signal, offline, offset, length } = options
      const params: CatOptions = { signal, offline, offset, length }
      return client.cat(cid, params)
    },
    async pin(cid, options = {}) {
      await client.pin.add(cid, { recursive: true, signal: options.signal })
    },
    async unpin(cid) {
      if (await isPinned(client, cid)) await client.pin.rm(cid, { recursive: true })
    },
    isPinned: (cid) => isPinned(client, cid),
    async gc() {
      for await (const _ of client.repo.gc()) {
        // drained: Kubo streams one line per removed block
      }
    },
    async stop() {},
  }
}

async function isPinned(client: KuboRPCClient, cid: CID): Promise<boolean> {
  try {
    for await (const pin of client.pin.ls({ paths: [cid], type: 'recursive' })) {
      if (pin.cid.multihash.bytes.toString() === cid.multihash.bytes.toString()) return true
    }
    return false
  } catch (err) {
    // Kubo answers 500 "... is not pinned" for a CID it does not pin.
    if (err instanceof Error && /not pinned/.test(err.message)) return false
    throw err
  }
}
