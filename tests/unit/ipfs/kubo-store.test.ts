/**
 * The Kubo backend (`--ipfs kubo[:url]`). Kubo cannot run here (no binary can be fetched), so the
 * first suite runs the Kubo store against a stand-in HTTP server on 127.0.0.1 that answers the RPC
 * calls Ripple makes, and checks what Ripple sends. The second runs the same code against a real
 * Kubo daemon, only where `ipfs` is on PATH.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportProfile } from '../../../host/ipfs/import-profile.ts'
import { kuboStore } from '../../../host/ipfs/kubo-store.ts'
import { kuboDeterministicBytes } from '../../fixtures/kubo-deterministic-bytes.ts'
import { type KuboStandIn, startKuboStandIn } from '../../fixtures/kubo-rpc-stand-in.ts'

async function* once(text: string): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(text)
}
async function text(source: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = []
  for await (const c of source) chunks.push(c)
  return Buffer.concat(chunks).toString()
}

// Kubo's own expected CIDs (ipfs/kubo test/cli/cid_profiles_test.go).
const VECTORS: { profile: ImportProfile; content: () => AsyncIterable<Uint8Array>; cid: string }[] = [
  {
    profile: 'unixfs-v1-2025',
    content: () => once('hello world'),
    cid: 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e',
  },
  {
    profile: 'unixfs-v0-2015',
    content: () => once('hello world'),
    cid: 'Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD',
  },
  {
    profile: 'unixfs-v1-2025',
    content: () => kuboDeterministicBytes(1_048_577, 'chunk-v1-seed'),
    cid: 'bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64',
  },
  {
    profile: 'unixfs-v0-2015',
    content: () => kuboDeterministicBytes(262_145, 'chunk-v0-seed'),
    cid: 'QmYyLxtzZyW22zpoVAtKANLRHpDjZtNeDjQdJrcQNWoRkJ',
  },
]

describe('Kubo store against a stand-in Kubo RPC server (Kubo cannot run here)', () => {
  let kubo: KuboStandIn
  beforeAll(async () => {
    kubo = await startKuboStandIn()
  })
  afterAll(() => kubo.close())

  it('sends every import parameter of the profile, unpinned', async () => {
    const store = kuboStore(kubo.url)
    const cid = await store.add(once('hello world'), { profile: 'unixfs-v1-2025' })
    expect(cid.toString()).toBe(VECTORS[0]!.cid)
    const add = kubo.requests.findLast((r) => r.path === '/api/v0/add')!
    expect(Object.fromEntries(add.query)).toMatchObject({
      'cid-version': '1',
      'raw-leaves': 'true',
      chunker: 'size-1048576',
      'max-file-links': '1024',
      hash: 'sha2-256',
      trickle: 'false',
      pin: 'false',
      'wrap-with-directory': 'false',
    })
    await store.add(once('hello world'), { profile: 'unixfs-v0-2015' })
    const v0 = kubo.requests.findLast((r) => r.path === '/api/v0/add')!
    expect(Object.fromEntries(v0.query)).toMatchObject({
      'cid-version': '0',
      'raw-leaves': 'false',
      chunker: 'size-262144',
      'max-file-links': '174',
    })
  })

  it('pins, reads offline, unpins and collects garbage through the RPC calls', async () => {
    const store = kuboStore(kubo.url)
    const cid = await store.add(once('kept by kubo'), { profile: 'unixfs-v1-2025' })
    expect(await store.isPinned(cid)).toBe(false)
    await store.pin(cid)
    expect(await store.isPinned(cid)).toBe(true)
    expect(await text(store.cat(cid, { offline: true }))).toBe('kept by kubo')
    expect(kubo.requests.findLast((r) => r.path === '/api/v0/cat')!.query.get('offline')).toBe('true')
    await store.unpin(cid)
    expect(await store.isPinned(cid)).toBe(false)
    await store.gc()
    await expect(text(store.cat(cid, { offline: true }))).rejects.toThrow(/not found locally/)
  })
})

const ipfsOnPath = spawnSync('ipfs', ['version'], { stdio: 'ignore' }).status === 0

describe.runIf(ipfsOnPath)('Kubo store against a real Kubo daemon (where `ipfs` is on PATH)', () => {
  let repo: string
  let daemon: ReturnType<typeof spawn>
  let url: string
  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'ripple-kubo-'))
    const env = { ...process.env, IPFS_PATH: repo }
    const run = (...args: string[]) => expect(spawnSync('ipfs', args, { env }).status).toBe(0)
    run('init', '--profile=test')
    run('config', 'Addresses.API', '/ip4/127.0.0.1/tcp/0')
    run('config', 'Addresses.Gateway', '/ip4/127.0.0.1/tcp/0')
    daemon = spawn('ipfs', ['daemon', '--offline'], { env, stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>((resolve) => {
      daemon.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Daemon is ready')) resolve()
      })
    })
    const api = (await readFile(join(repo, 'api'), 'utf8')).trim()
    const [, , host, , port] = api.split('/')
    url = `http://${host}:${port}`
  }, 60_000)
  afterAll(async () => {
    daemon?.kill()
    await rm(repo, { recursive: true, force: true })
  })

  for (const v of VECTORS) {
    it(`${v.profile} gives Kubo's CID ${v.cid}`, async () => {
      const store = kuboStore(url)
      const cid = await store.add(v.content(), { profile: v.profile })
      expect(cid.toString()).toBe(v.cid)
      await store.pin(cid)
      expect(await store.isPinned(cid)).toBe(true)
      await store.unpin(cid)
      expect(await store.isPinned(cid)).toBe(false)
    })
  }
})
