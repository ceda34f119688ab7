/** Opens the IPFS the daemon was asked for. */
import type { Libp2p } from '@libp2p/interface'
import { startHeliaStore } from './helia-store.ts'
import type { IpfsChoice } from './ipfs-choice.ts'
import type { IpfsStore } from './ipfs-store.ts'
import { kuboStore } from './kubo-store.ts'

export class NoNodeForHeliaError extends Error {
  static override readonly name = 'NoNodeForHeliaError'
  constructor() {
    super(
      "embedded IPFS (Helia) runs on the peer's libp2p node, which a Holochain-backed network lacks: use --ipfs kubo[:url]",
    )
    this.name = 'NoNodeForHeliaError'
  }
}

export async function openIpfs(choice: IpfsChoice, libp2p: Libp2p | null, dir: string): Promise<IpfsStore> {
  if (choice.kind === 'kubo') return kuboStore(choice.url)
  if (libp2p === null) throw new NoNodeForHeliaError()
  return startHeliaStore({ libp2p, dir })
}
