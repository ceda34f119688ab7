/**
 * Ripple's imports give Kubo's CIDs. The expected values are Kubo's own, from ipfs/kubo
 * test/cli/cid_profiles_test.go (`unixfsV02015` / `unixfsV12025`), for the same bytes its harness adds.
 * Kubo itself cannot run here (no binary reachable); kubo-store.test.ts covers a real one where
 * `ipfs` is on PATH.
 */
import '../../../host/runtime/node20-polyfills.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHeliaStore } from '../../../host/ipfs/helia-store.ts'
import type { ImportProfile } from '../../../host/ipfs/import-profile.ts'
import type { IpfsStore } from '../../../host/ipfs/ipfs-store.ts'
import { kuboDeterministicBytes } from '../../fixtures/kubo-deterministic-bytes.ts'

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}
const helloWorld = () => once(new TextEncoder().encode('hello world'))

const VECTORS: {
  profile: ImportProfile
  name: string
  content: () => AsyncIterable<Uint8Array>
  cid: string
}[] = [
  // unixfs-v0-2015, Kubo's default
  {
    profile: 'unixfs-v0-2015',
    name: 'hello world',
    content: helloWorld,
    cid: 'Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD',
  },
  {
    profile: 'unixfs-v0-2015',
    name: 'one chunk (262144 B)',
    content: () => kuboDeterministicBytes(262_144, 'chunk-v0-seed'),
    cid: 'QmWmRj3dFDZdb6ABvbmKhEL6TmPbAfBZ1t5BxsEyJrcZhE',
  },
  {
    profile: 'unixfs-v0-2015',
    name: 'two chunks (262145 B)',
    content: () => kuboDeterministicBytes(262_145, 'chunk-v0-seed'),
    cid: 'QmYyLxtzZyW22zpoVAtKANLRHpDjZtNeDjQdJrcQNWoRkJ',
  },
  {
    profile: 'unixfs-v0-2015',
    name: '174 links (174 x 256 KiB)',
    content: () => kuboDeterministicBytes(174 * 262_144, 'v0-seed'),
    cid: 'QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2',
  },
  {
    profile: 'unixfs-v0-2015',
    name: 'two layers (174 x 256 KiB + 1)',
    content: () => kuboDeterministicBytes(174 * 262_144 + 1, 'v0-seed'),
    cid: 'QmV81WL765sC8DXsRhE5fJv2rwhS4icHRaf3J9Zk5FdRnW',
  },
  // unixfs-v1-2025, Ripple's default
  {
    profile: 'unixfs-v1-2025',
    name: 'hello world',
    content: helloWorld,
    cid: 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e',
  },
  {
    profile: 'unixfs-v1-2025',
    name: 'one chunk (1 MiB)',
    content: () => kuboDeterministicBytes(1_048_576, 'chunk-v1-seed'),
    cid: 'bafkreiacndfy443ter6qr2tmbbdhadvxxheowwf75s6zehscklu6ezxmta',
  },
  {
    profile: 'unixfs-v1-2025',
    name: 'two chunks (1 MiB + 1)',
    content: () => kuboDeterministicBytes(1_048_577, 'chunk-v1-seed'),
    cid: 'bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64',
  },
]

describe('import profiles give Kubo CIDs (Helia store)', () => {
  let dir: string
  let node: Libp2p
  let store: IpfsStore

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ripple-cid-'))
    node = await createLibp2p({})
    store = await startHeliaStore({ libp2p: node, dir })
  })
  afterAll(async () => {
    await store.stop()
    await node.stop()
    await rm(dir, { recursive: true, force: true })
  })

  for (const v of VECTORS) {
    it(`${v.profile}: ${v.name}`, async () => {
      const cid = await store.add(v.content(), { profile: v.profile })
      expect(cid.toString()).toBe(v.cid)
    })
  }
})
