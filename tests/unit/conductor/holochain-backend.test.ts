/**
 * The holochain backend (HolochainConductor over @holochain/client) against an embedded conductor
 * serving Holochain's WebSocket API: a stand-in for a Holochain conductor, which cannot run here.
 * Real client, real sockets, real signing.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createEmbeddedConductor, type EmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import {
  type ConductorApi,
  serveConductorApi,
} from '../../../host/conductor/embedded/websocket-api/conductor-api.ts'
import {
  BOOTSTRAP_POLL_MAX_MS,
  conductorConfig,
  HolochainNotInstalledError,
  NETWORK_REQUEST_TIMEOUT_S,
  startConductorProcess,
} from '../../../host/conductor/holochain/conductor-process.ts'
import {
  HolochainCallError,
  HolochainConductor,
} from '../../../host/conductor/holochain/holochain-conductor.ts'
import { findHolochainTool } from '../../../host/conductor/holochain/tools.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { openAgentKey } from '../../../host/identity/keystore.ts'
import type { Signal } from '../../../host/interface/conductor-port.ts'
import { InvalidEntryError } from '../../../host/interface/zome-refusal.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { capability } from './fixtures/capability.ts'
import { tempDir } from './fixtures/test-cell.ts'

const NETWORK: NetworkConfig = {
  name: 'hc-backend',
  seed: 'seed-hc',
  backend: 'embedded',
  dna_properties: { policy_store: { progenitor: null } },
  heartbeat: { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 10_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
}

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function servedConductor(): Promise<{
  embedded: EmbeddedConductor
  api: ConductorApi
  hc: HolochainConductor
}> {
  const dataDir = await tempDir()
  const embedded = await createEmbeddedConductor({ dataDir, network: NETWORK })
  cleanups.push(() => embedded.close())
  const key = await openAgentKey(dataDir)
  const api = await serveConductorApi({
    conductor: embedded,
    network: NETWORK,
    transport: { peerUrls: () => [], connections: () => [] },
    sign: (bytes) => key.sign(bytes),
    adminPort: 0,
  })
  cleanups.push(() => api.close())
  const hc = await HolochainConductor.connect({ adminUrl: api.adminUrl, network: NETWORK, happPath: '/none' })
  cleanups.push(() => hc.close())
  return { embedded, api, hc }
}

describe('the holochain backend over a conductor WebSocket API', () => {
  it('is the same agent and the same chains: a write through the client is read back in process', async () => {
    const { embedded, hc } = await servedConductor()
    expect(hc.backend).toBe('holochain')
    expect(hc.agentPubKey).toBe(embedded.agentPubKey)
    const ref = await hc.callZome('agent_registry', 'advertise_capability', capability({ name: 'over-ws' }))
    const direct = await embedded.callZome('agent_registry', 'get_capability', embedded.agentPubKey)
    expect(direct).toMatchObject({ action_hash: ref.action_hash, entry: capability({ name: 'over-ws' }) })
    expect(await hc.agentInfo('agent_registry')).toEqual(await embedded.agentInfo('agent_registry'))
  })

  it('turns app signals into port signals and broadcasts through the zome', async () => {
    const { hc } = await servedConductor()
    const received = new Promise<Signal>((resolve) => hc.onSignal(resolve))
    await hc.broadcastSignal('resource_mesh', { type: 'task', n: 1 })
    expect(await received).toEqual({
      dna: 'resource_mesh',
      from: hc.agentPubKey,
      payload: { type: 'task', n: 1 },
    })
  })

  it('sends a signal to one agent through the zome (send_signal)', async () => {
    const { hc } = await servedConductor()
    const received = new Promise<Signal>((resolve) => hc.onSignal(resolve))
    await hc.sendSignal('resource_mesh', hc.agentPubKey, { type: 'token', data: 'hi' })
    expect(await received).toEqual({
      dna: 'resource_mesh',
      from: hc.agentPubKey,
      payload: { type: 'token', data: 'hi' },
    })
    await expect(hc.sendSignal('resource_mesh', 'not-an-agent', null)).rejects.toBeInstanceOf(
      HolochainCallError,
    )
  })

  it("refuses off-contract input before the call, and the rules' refusal typed, with its rule", async () => {
    const { hc } = await servedConductor()
    await expect(hc.callZome('agent_registry', 'find_nodes_by_tag', 'Not A Tag!')).rejects.toMatchObject({
      name: 'InvalidZomeCallError',
    })
    // No progenitor on this network: the rules refuse every policy, and the zome's error comes back.
    const policy = {
      id: 'p',
      version: 1,
      text: 'permit(principal, action, resource);',
      description: '',
      admin_grant: null,
    }
    const err = await hc.callZome('policy_store', 'publish_policy', policy).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidEntryError)
    expect(err).toMatchObject({
      rule: 'policy.no_progenitor',
      detail: 'this network names no progenitor, so it has no admins',
      failureKind: 'forbidden',
    })
  })
})

describe('starting a Holochain conductor', () => {
  it('says how to build them when holochain and lair-keystore are neither built nor on PATH', async () => {
    const saved = { PATH: process.env.PATH, RIPPLE_HOLOCHAIN_HOME: process.env.RIPPLE_HOLOCHAIN_HOME }
    process.env.PATH = '/nonexistent'
    process.env.RIPPLE_HOLOCHAIN_HOME = '/nonexistent/holochain'
    try {
      expect(findHolochainTool('holochain')).toBeNull()
      const err = await startConductorProcess(await tempDir(), NETWORK, silentLogger()).catch(
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(HolochainNotInstalledError)
      expect((err as Error).message).toMatch(
        /needs holochain and lair-keystore \(Holochain 0\.6\.\d+\), neither built in \/nonexistent\/holochain\/0\.6\.\d+\/bin nor on PATH: build them with `bash scripts\/build-holochain\.sh`.*nix develop/,
      )
    } finally {
      for (const [key, value] of Object.entries(saved))
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
    }
  })

  it('writes a conductor config from the network file, admin interface on loopback for the host origin', () => {
    const config = JSON.parse(
      conductorConfig({
        dataRoot: '/data/conductor',
        lairUrl: 'unix:///data/lair/socket?k=abc',
        network: {
          ...NETWORK,
          backend: 'holochain',
          holochain: { bootstrap_url: 'https://bootstrap.example', signal_url: 'wss://signal.example' },
        },
      }),
    )
    expect(config).toEqual({
      data_root_path: '/data/conductor',
      keystore: { type: 'lair_server', connection_url: 'unix:///data/lair/socket?k=abc' },
      admin_interfaces: [{ driver: { type: 'websocket', port: 0, allowed_origins: 'ripple-host' } }],
      // Peers learn a restarted peer's new address within BOOTSTRAP_POLL_MAX_MS; a get they dropped
      // meanwhile fails after NETWORK_REQUEST_TIMEOUT_S and is asked again.
      request_timeout_s: NETWORK_REQUEST_TIMEOUT_S,
      network: {
        target_arc_factor: 1,
        bootstrap_url: 'https://bootstrap.example',
        signal_url: 'wss://signal.example',
        advanced: { coreBootstrap: { backoffMaxMs: BOOTSTRAP_POLL_MAX_MS } },
      },
    })
  })

  it('lets the conductor use a plain ws:// signal server (a local kitsune2-bootstrap-srv), and only then', () => {
    const networkOf = (signal_url: string) =>
      JSON.parse(
        conductorConfig({
          dataRoot: '/d',
          lairUrl: 'unix:///l',
          network: { ...NETWORK, backend: 'holochain', holochain: { bootstrap_url: null, signal_url } },
        }),
      ).network
    expect(networkOf('ws://127.0.0.1:4000').advanced.tx5Transport).toEqual({ signalAllowPlainText: true })
    expect(networkOf('wss://signal.example').advanced.tx5Transport).toBeUndefined()
  })
})
