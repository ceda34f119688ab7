/**
 * The network the bench's daemons join: `local` as shipped, or with `record.holders` set
 * (RIPPLE_BENCH_MESH_PEERS_HOLDERS). A Create is kept by up to 2R + 1 members (its hash's R, its
 * author's R and the author), so at the default R = 8 every peer of 16 holds every op and the record's
 * bound is passed only past 17 daemons; a smaller R passes it at sizes this machine runs. Written once
 * per size and named by every daemon: every member of a mesh names the same R.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { NetworkConfigSchema } from '../../host/config/network-schema.ts'

/** The `ripple up` flags for the network under `root`: none for `local` as shipped. */
export async function networkFlags(root: string, holders: number | null): Promise<string[]> {
  if (holders === null) return []
  const local = JSON.parse(await readFile(new URL('../../networks/local.json', import.meta.url), 'utf8'))
  // A private mesh made by its first peer, as `local` is (a network file names that with require_invite).
  const network = NetworkConfigSchema.parse({
    ...local,
    require_invite: true,
    record: { ...local.record, holders },
  })
  const path = join(root, 'network.json')
  await writeFile(path, `${JSON.stringify(network, null, 2)}\n`)
  return ['--network', path]
}
