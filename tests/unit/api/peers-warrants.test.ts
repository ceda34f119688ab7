/**
 * `ripple peers` (the real CLI, as a child process) shows the warrants the daemon's API reports: on the
 * warranted peer's row and in the list of warrants, including agents that never advertised a capability.
 * The API here is the real server with a fixed peers answer; the replication tests show how warrants
 * come to exist.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer } from '../../../host/api/api-server.ts'
import type { PeersReply } from '../../../host/api/contract/index.ts'
import { writeDaemonFile } from '../../../host/daemon/daemon-file.ts'
import { ModelNotFoundError } from '../../../host/inference/model-manager.ts'
import type { KnownPeer } from '../../../host/interface/live-peers.ts'
import type { WarrantView } from '../../../host/interface/network-port.ts'
import { OWN_STATEMENT } from '../../../host/interface/release.ts'
import { dhtLocation, HOLO_HASH_PREFIXES } from '../../../zomes-bindings/index.ts'
import { runRipple } from '../../e2e/ripple-process.ts'
import { AGENT, baseInit, CAPABILITY } from './fixtures.ts'

const TOKEN = 'peers-warrant-token-0123456789'
const agentKey = (fill: number) => {
  const core = new Uint8Array(32).fill(fill)
  return `u${Buffer.concat([HOLO_HASH_PREFIXES.agent, core, dhtLocation(core)]).toString('base64url')}`
}
const MALLORY = agentKey(9)
const TRUDY = agentKey(11)

const warrant = (agent: string, rule: string, reason: string): WarrantView => ({
  agent,
  dna: 'agent_registry',
  rule,
  reason,
  action_hash: null,
  reported_by: AGENT,
  timestamp: 1_700_000_000_000_000,
})

const REPLY = {
  peers: [
    {
      agent: AGENT,
      self: true,
      status: 'online',
      name: 'honest',
      capability: CAPABILITY,
      load: null,
      last_heartbeat_ms_ago: 100,
      warrant: null,
      link: null,
      revoked: false,
      release: OWN_STATEMENT,
    },
    {
      agent: MALLORY,
      self: false,
      status: 'online',
      name: 'mallory',
      capability: { ...CAPABILITY, name: 'mallory' },
      load: null,
      last_heartbeat_ms_ago: 200,
      warrant: warrant(MALLORY, 'chain.fork', 'two actions at seq 5'),
      link: null,
      revoked: false,
      release: { release: '0.3.0', protocols: { ...OWN_STATEMENT.protocols, direct: 9 } },
    },
  ],
  warrants: [
    warrant(MALLORY, 'chain.fork', 'two actions at seq 5'),
    warrant(TRUDY, 'node_capability.name_length', 'name is longer than 64 characters'),
  ],
} satisfies PeersReply & { peers: KnownPeer[] }

let server: ApiServer
let dataDir: string

beforeAll(async () => {
  server = new ApiServer(
    baseInit({
      token: TOKEN,
      components: {
        peers: {
          list: async () => REPLY.peers,
          warrants: () => REPLY.warrants,
        },
        models: {
          list: async () => ({ models: [], unusable: [] }),
          load: async (name) => {
            throw new ModelNotFoundError(name, [])
          },
          unload: async () => false,
        },
      },
    }),
  )
  await server.start()
  dataDir = await mkdtemp(join(tmpdir(), 'ripple-peers-warrants-'))
  await writeFile(join(dataDir, 'api-token'), TOKEN, { mode: 0o600 })
  await writeDaemonFile(dataDir, {
    pid: process.pid,
    api_url: server.url,
    network: 'local',
    agent: AGENT,
    data_dir: dataDir,
    started_at: new Date().toISOString(),
  })
})

afterAll(async () => {
  await server.stop()
  await rm(dataDir, { recursive: true, force: true })
})

describe('ripple peers shows releases', { timeout: 30_000 }, () => {
  it('has a release column and names a version gap with who should upgrade', async () => {
    const res = await runRipple(['peers', '--data-dir', dataDir])
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toMatch(/RELEASE/)
    expect(res.stdout).toMatch(
      new RegExp(`honest\\s+online.*${OWN_STATEMENT.release.replaceAll('.', '\\.')}`),
    )
    expect(res.stdout).toContain(
      `peer mallory runs Ripple 0.3.0 (direct 9), this peer ${OWN_STATEMENT.release} (direct ${OWN_STATEMENT.protocols.direct}): upgrade this peer`,
    )
  })
})

describe('ripple peers shows warrants', { timeout: 30_000 }, () => {
  it('marks the warranted peer and lists every warrant with its rule and reason', async () => {
    const res = await runRipple(['peers', '--data-dir', dataDir])
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toMatch(/mallory\s+online.*chain\.fork/)
    expect(res.stdout).toMatch(/honest\s+online.*-\s*$/m)
    expect(res.stdout).toContain(`${MALLORY}  chain.fork: two actions at seq 5 (agent_registry)`)
    expect(res.stdout).toContain(
      `${TRUDY}  node_capability.name_length: name is longer than 64 characters (agent_registry)`,
    )
  })

  it('gives the warrants in --json', async () => {
    const res = await runRipple(['peers', '--data-dir', dataDir, '--json'])
    // The reply as served, with its page and the counts of members and of peers known.
    expect(JSON.parse(res.stdout)).toEqual({ ...REPLY, members: 2, total: 2, page: 1, limit: 100 })
  })
})
