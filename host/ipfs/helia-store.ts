/**
 * Embedded IPFS: Helia built light on the peer's own libp2p node (one node per peer: bitswap beside
 * gossip), with file-system stores in the data dir. No public bootstrap, routers or gateways:
 * wantlists go to connected peers of the mesh only.
 */

import { join } from 'node:path'
import { withBitswap } from '@helia/bitswap'
import { type AddOptions, type UnixFS, unixfs } from '@helia/unixfs'
import type { Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { FsDatastore } from 'datastore-fs'
import { createHeliaLight, type Helia } from 'helia'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import drain from 'it-drain'
import type { CID } from 'multiformats/cid'
import { SerialQueue } from '../runtime/serial-queue.ts'
import { type ImportProfile, PROFILE_SETTINGS } from './import-profile.ts'
import type { AddContentOptions, CatOptions, IpfsStore } from './ipfs-store.ts'
import { forgetPinner } from './pin-records.ts'
import { TidyFsBlockstore } from './tidy-fs-blockstore.ts'

export interface HeliaStoreInit {
  /** The peer's node; Helia neither starts nor stops it. */
  libp2p: Libp2p
  /** Holds `blocks/` and `datastore/` (pins). */
  dir: string
}

export async function startHeliaStore(init: HeliaStoreInit): Promise<IpfsStore & { helia: Helia }> {
  const blockstore = new TidyFsBlockstore(join(init.dir, 'blocks'))
  const datastore = new FsDatastore(join(init.dir, 'datastore'))
  await blockstore.open()
  await datastore.open()
  const light = createHeliaLight({ blockstore, datastore })
  // Helia 7 only accepts libp2p options and would build a second node; bitswap needs just
  // `helia.libp2p`, so the peer's node is lent to it here.
  Object.defineProperty(light, 'libp2p', { value: init.libp2p, enumerable: true })
  // Peers behind NAT fetch artifacts from each other over relayed connections too.
  // A peer asking again for a block it was just sent gets it again: bitswap's default holds it back
  // for 5 s, and a reader that asked again (its first copy not kept) waited up to 20 s for it.
  const helia = withBitswap(light as Parameters<typeof withBitswap>[0], {
    runOnLimitedConnections: true,
    doNotResendBlockWindow: 0,
  })
  await helia.start()
  await identifyConnected(init.libp2p)
  const fs: UnixFS = unixfs(helia)
  // Helia's pins read, change and write back a record per block: two at once on the same block (a
  // person pinning what the replication keeper pins, two artifacts sharing a block) race on its file
  // and one fails (or a count is lost). One pin change at a time.
  const pins = new SerialQueue()
  let stopping: Promise<void> | undefined
  return {
    kind: 'helia',
    helia,
    add: (content: AsyncIterable<Uint8Array>, options: AddContentOptions) =>
      fs.addByteStream(content, { ...heliaAddOptions(options.profile), signal: options.signal }),
    cat: (cid: CID, options: CatOptions = {}) => fs.cat(cid, options),
    pin: (cid, options = {}) =>
      pins.run(async () => {
        options.signal?.throwIfAborted()
        if (await helia.pins.isPinned(cid)) return
        await drain(helia.pins.add(cid, { signal: options.signal }))
      }),
    unpin: (cid) =>
      pins.run(async () => {
        if (!(await helia.pins.isPinned(cid))) return
        const released: CID[] = []
        for await (const block of helia.pins.rm(cid)) released.push(block)
        await forgetPinner(helia.datastore, cid, released)
      }),
    isPinned: (cid) => helia.pins.isPinned(cid),
    gc: () => helia.gc(),
    stop() {
      stopping ??= (async () => {
        await helia.stop()
        await blockstore.close()
        await datastore.close()
      })()
      return stopping
    },
  }
}

/**
 * @helia/unixfs options for a profile. Chunker and layout are passed explicitly: its `profile`
 * option loses to its own default chunker and layout (checked: wrong CIDv0 for Kubo's vectors).
 */
export function heliaAddOptions(profile: ImportProfile): Partial<AddOptions> {
  const s = PROFILE_SETTINGS[profile]
  return {
    cidVersion: s.cidVersion,
    rawLeaves: s.rawLeaves,
    chunker: fixedSize({ chunkSize: s.chunkSize }),
    layout: balanced({ maxChildrenPerNode: s.maxLinks }),
    reduceSingleLeafToSelf: true,
  }
}

/**
 * Bitswap learns peers when identify reports their protocols; peers connected before it started were
 * identified already, so they are identified again (which tells bitswap about them; libp2p's own
 * identify push tells them about this peer's new protocol).
 */
async function identifyConnected(libp2p: Libp2p): Promise<void> {
  const identifyService = (libp2p.services as { identify?: Identify }).identify
  if (identifyService === undefined) return
  await Promise.all(
    libp2p.getConnections().map((connection) => identifyService.identify(connection).catch(() => undefined)),
  )
}
