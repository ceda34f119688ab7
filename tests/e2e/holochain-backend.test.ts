/**
 * `ripple up` on a network file with `"backend": "holochain"`: the daemon drives a conductor through
 * @holochain/client. No Holochain conductor can run here, so the conductor is another `ripple up`
 * serving Holochain's admin API (`--admin-port`), named by `holochain.admin_url`; and without one,
 * testnet's file switched to the holochain backend (no admin_url, no `holochain` on PATH) stops with
 * what to install.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiClient } from '../../host/api/client/index.ts'
import type { StatusView } from '../../host/api/contract/index.ts'
import { findHolochainTool } from '../../host/conductor/holochain/tools.ts'
import { isolatedNetwork, REPO_ROOT, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

let dir: string
let conductorPeer: RunningRipple
let host: RunningRipple

const line = (peer: RunningRipple, re: RegExp) => re.exec(peer.stdout())?.[1] ?? ''

/** The typed client of a peer started with `--data-dir dataDir` (the token is in its 0600 file). */
async function apiOf(peer: RunningRipple, dataDir: string): Promise<ApiClient> {
  const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  return new ApiClient({ baseUrl: line(peer, /^ripple: api (\S+)$/m), token })
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-hc-backend-'))
  const network = await isolatedNetwork(dir, 'hcbackend')
  conductorPeer = await startRipple([
    ...['--network', network, '--data-dir', join(dir, 'conductor'), '--api-port', '0', '--admin-port', '0'],
    ...['--name', 'conductor-peer', '--log-level', 'warn'],
  ])
  const holochainNetwork = join(dir, 'hc.network.json')
  await writeFile(
    holochainNetwork,
    JSON.stringify({
      name: 'hcbackend',
      seed: 'unused-the-conductor-has-the-app',
      backend: 'holochain',
      dna_properties: { policy_store: { progenitor: null } },
      heartbeat: { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 10_000 },
      holochain: {
        bootstrap_url: null,
        signal_url: null,
        admin_url: line(conductorPeer, /^ripple: holochain admin (\S+)$/m),
      },
    }),
  )
  host = await startRipple([
    ...['--network', holochainNetwork, '--data-dir', join(dir, 'host'), '--api-port', '0'],
    ...['--name', 'holochain-host', '--log-level', 'warn'],
  ])
}, 120_000)

afterAll(async () => {
  for (const peer of [host, conductorPeer])
    if (peer && peer.child.exitCode === null) peer.child.kill('SIGKILL')
  await rm(dir, { recursive: true, force: true })
})

describe('ripple up on the holochain backend', { timeout: 60_000 }, () => {
  it("runs on the conductor named by admin_url, as that conductor's agent", async () => {
    expect(host.stdout()).toMatch(/^ripple: network hcbackend \(holochain\)/m)
    const res = await runRipple(['status', '--data-dir', join(dir, 'host'), '--json'])
    expect(res.code, res.stderr).toBe(0)
    const status = JSON.parse(res.stdout) as StatusView
    expect(status.backend).toBe('holochain')
    expect(status.agent).toBe(line(conductorPeer, /^ripple: agent (\S+)$/m))
  })

  it('writes through the client land on the same chain the conductor peer reads', async () => {
    const agent = line(conductorPeer, /^ripple: agent (\S+)$/m)
    const viaClient = (await (
      await apiOf(host, join(dir, 'host'))
    ).callZome('agent_registry', 'get_capability', agent)) as { action_hash: string }
    const inProcess = (await (
      await apiOf(conductorPeer, join(dir, 'conductor'))
    ).callZome('agent_registry', 'get_capability', agent)) as {
      action_hash: string
    }
    expect(viaClient.action_hash).toBe(inProcess.action_hash)
  })

  // Where Holochain is built this would start a real conductor on the public testnet: not here.
  it.skipIf(findHolochainTool('holochain') !== null)(
    'testnet on the holochain backend, without holochain built or on PATH, stops and says how to build it',
    async () => {
      // The backend is chosen per network file: testnet's own, with "backend" switched.
      const testnet = JSON.parse(await readFile(join(REPO_ROOT, 'networks', 'testnet.json'), 'utf8'))
      const file = join(dir, 'testnet-holochain.json')
      await writeFile(file, JSON.stringify({ ...testnet, backend: 'holochain' }))
      const res = await runRipple([
        'up',
        '--network',
        file,
        '--data-dir',
        join(dir, 'testnet'),
        '--api-port',
        '0',
      ])
      expect(res.code).not.toBe(0)
      expect(res.stderr).toMatch(
        /needs holochain and lair-keystore \(Holochain 0\.6\.\d+\), neither built in .* nor on PATH: build them with `bash scripts\/build-holochain\.sh`/,
      )
    },
  )
})
