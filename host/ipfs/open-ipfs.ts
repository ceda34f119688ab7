/** Opens the IPFS the daemon was asked for. */
import type { Libp2p } from '@libp2p/interface'
import type { IpfsChoice } from './ipfs-choice.ts'
import type { IpfsStore } from './ipfs-store.ts'

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
  // Each imported only when chosen: either one is hundreds of modules that would slow every start.
  if (choice.kind === 'kubo') return (await import('./kubo-store.ts')).kuboStore(choice.url)
  if (libp2p === null) throw new NoNodeForHeliaError()
  return (await import('./helia-store.ts')).startHeliaStore({ libp2p, dir })
}
