/**
 * The file-system blockstore, minus one leak: its atomic write goes through `.<file>.tmp`, and a
 * write that fails (a full disk) leaves that file behind, where garbage collection never looks. Here
 * a failed put removes its own temp file, so a refused pin gives all its space back.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { NextToLast } from 'blockstore-fs/sharding'
import type { CID } from 'multiformats/cid'

export class TidyFsBlockstore extends FsBlockstore {
  readonly #sharding: NextToLast

  constructor(location: string) {
    const sharding = new NextToLast()
    super(location, { shardingStrategy: sharding })
    this.#sharding = sharding
  }

  override async put(
    key: CID,
    value: Uint8Array,
    options?: Parameters<FsBlockstore['put']>[2],
  ): Promise<CID> {
    try {
      return await super.put(key, value, options)
    } catch (err) {
      const { dir, file } = this.#sharding.encode(key)
      await rm(join(this.path, dir, `.${file}.tmp`), { force: true })
      throw err
    }
  }
}
