/**
 * One contract: a call of every zome function (./fixtures/zome-story.ts), every answer parsed with the
 * bindings, through the holochain backend's client (HolochainConductor, @holochain/client). Against a
 * real Holochain 0.6.0 conductor running workdir/ripple.happ it checks that the Rust zomes answer what
 * zomes-bindings says; against the embedded conductor serving the same API it checks the story itself.
 * The real conductor is skipped, with the reason, where the tools or the hApp are missing.
 */
import { AdminWebsocket } from '@holochain/client'
import { afterEach, describe, expect, it } from 'vitest'
import { createEmbeddedConductor } from '../../../host/conductor/embedded/index.ts'
import { serveConductorApi } from '../../../host/conductor/embedded/websocket-api/conductor-api.ts'
import { startConductorProcess } from '../../../host/conductor/holochain/conductor-process.ts'
import { HolochainConductor } from '../../../host/conductor/holochain/holochain-conductor.ts'
import { RIPPLE_APP_ID, RIPPLE_HOST_ORIGIN } from '../../../host/conductor/ripple-app.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { openAgentKey } from '../../../host/identity/keystore.ts'
import { silentLogger } from '../../../host/log/logger.ts'
import { contract, DNA_NAMES } from '../../../zomes-bindings/index.ts'
import { HAPP_PATH, holochainSkipReason } from '../../fixtures/holochain-tools.ts'
import { tempDir } from '../conductor/fixtures/test-cell.ts'
import { callEveryZomeFunction, progenitorProperties } from './fixtures/zome-story.ts'

const EVERY_FUNCTION = DNA_NAMES.flatMap((dna) =>
  Object.keys(contract[dna].functions).map((fn) => `${dna}.${fn}`),
)

const network = (
  dna_properties: NetworkConfig['dna_properties'],
  backend: NetworkConfig['backend'],
): NetworkConfig => ({
  name: 'contract',
  seed: `contract-${Date.now()}`,
  backend,
  dna_properties,
  heartbeat: { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 10_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
  // Loopback only: one agent needs no peers, and tests send nothing off the machine.
  holochain: { bootstrap_url: 'http://127.0.0.1:9', signal_url: 'ws://127.0.0.1:9' },
})

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const otherAgent = async () => encodeHashB64((await openAgentKey(await tempDir())).agentPubKey)

function expectEveryFunctionCalled(called: string[]): void {
  expect([...called].sort()).toEqual([...EVERY_FUNCTION].sort())
}

describe('the contract, through the holochain backend client', { timeout: 120_000 }, () => {
  it('the embedded conductor serving the API answers every function as the bindings say', async () => {
    const dataDir = await tempDir()
    const key = await openAgentKey(dataDir)
    const net = network(progenitorProperties(encodeHashB64(key.agentPubKey)), 'embedded')
    const embedded = await createEmbeddedConductor({ dataDir, network: net })
    cleanups.push(() => embedded.close())
    const api = await serveConductorApi({
      conductor: embedded,
      network: net,
      transport: { peerUrls: () => [], connections: () => [] },
      sign: (bytes) => key.sign(bytes),
      adminPort: 0,
    })
    cleanups.push(() => api.close())
    const hc = await HolochainConductor.connect({ adminUrl: api.adminUrl, network: net, happPath: '/none' })
    cleanups.push(() => hc.close())
    expectEveryFunctionCalled(await callEveryZomeFunction(hc, await otherAgent()))
  })

  const skip = holochainSkipReason(['holochain', 'lair-keystore']) !== null
  it.skipIf(skip)('a real Holochain conductor answers every function as the bindings say', async () => {
    const dataDir = await tempDir()
    const conductor = await startConductorProcess(dataDir, network({}, 'holochain'), silentLogger())
    cleanups.push(() => conductor.stop())
    // The agent key first, so the app installs with this agent as the progenitor of its network.
    const admin = await AdminWebsocket.connect({
      url: new URL(conductor.adminUrl),
      wsClientOptions: { origin: RIPPLE_HOST_ORIGIN },
    })
    const agent = await admin.generateAgentPubKey()
    const net = network(progenitorProperties(encodeHashB64(agent)), 'holochain')
    await admin.installApp({
      source: { type: 'path', value: HAPP_PATH },
      installed_app_id: RIPPLE_APP_ID,
      agent_key: agent,
      network_seed: net.seed,
      roles_settings: Object.fromEntries(
        DNA_NAMES.map((dna) => [
          dna,
          { type: 'provisioned', value: { modifiers: { properties: net.dna_properties[dna] ?? {} } } },
        ]),
      ),
    })
    await admin.client.close()
    const hc = await HolochainConductor.connect({
      adminUrl: conductor.adminUrl,
      network: net,
      happPath: HAPP_PATH,
    })
    cleanups.push(() => hc.close())
    expectEveryFunctionCalled(await callEveryZomeFunction(hc, await otherAgent()))
  })
})
