import { afterEach, describe, expect, it } from 'vitest'
import {
  createEmbeddedConductor,
  type EmbeddedConductor,
  type EmbeddedConductorInit,
  InvalidZomeCallError,
  MemorySignalHub,
  type OpsCommittedEvent,
} from '../../../host/conductor/embedded/index.ts'
import type { RulesValidator } from '../../../host/conductor/embedded/validation/validator.ts'
import { coordinatorZomes } from '../../../host/conductor/embedded/zomes/index.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import type { Signal } from '../../../host/interface/conductor-port.ts'
import { contract, DNA_NAMES } from '../../../zomes-bindings/index.ts'
import { capability } from './fixtures/capability.ts'
import { tempDir } from './fixtures/test-cell.ts'

const NETWORK: NetworkConfig = {
  name: 'test',
  seed: 'seed-1',
  backend: 'embedded',
  dna_properties: { policy_store: { progenitor: null } },
  heartbeat: { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 10_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
}

const acceptAll: RulesValidator = { validate: () => ({ outcome: 'valid' }) }

const open: EmbeddedConductor[] = []
async function conductor(init: Partial<EmbeddedConductorInit> = {}): Promise<EmbeddedConductor> {
  const c = await createEmbeddedConductor({
    dataDir: init.dataDir ?? (await tempDir()),
    network: NETWORK,
    rulesValidator: acceptAll,
    rulesWasmPath: '/nonexistent/rules.wasm',
    ...init,
  })
  open.push(c)
  return c
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})

describe('embedded conductor', () => {
  it('opens one cell per DNA under the same agent key, and keeps them across restarts', async () => {
    const dataDir = await tempDir()
    const first = await conductor({ dataDir })
    const infos = await Promise.all(
      (['agent_registry', 'resource_mesh', 'policy_store', 'artifact_index', 'memory_shards'] as const).map(
        (dna) => first.agentInfo(dna),
      ),
    )
    expect(new Set(infos.map((i) => i.agent_pubkey))).toEqual(new Set([first.agentPubKey]))
    expect(new Set(infos.map((i) => i.dna_hash)).size).toBe(5)
    expect(infos.every((i) => i.chain_head.action_seq === 3)).toBe(true)
    await first.callZome('agent_registry', 'advertise_capability', capability())
    const head = (await first.agentInfo('agent_registry')).chain_head
    await first.close()

    const second = await conductor({ dataDir })
    expect(second.agentPubKey).toBe(first.agentPubKey)
    expect((await second.agentInfo('agent_registry')).chain_head).toEqual(head)
    expect((await second.agentInfo('agent_registry')).dna_hash).toBe(infos[0]!.dna_hash)
  })

  it('gives networks with different seeds different DNA hashes', async () => {
    const a = await conductor()
    const b = await conductor({ network: { ...NETWORK, seed: 'seed-2' } })
    expect((await a.agentInfo('agent_registry')).dna_hash).not.toBe(
      (await b.agentInfo('agent_registry')).dna_hash,
    )
  })

  it('advertises, updates and reads capabilities with their links', async () => {
    const c = await conductor()
    const ref = await c.callZome('agent_registry', 'advertise_capability', capability())
    const mine = await c.callZome('agent_registry', 'get_capability', c.agentPubKey)
    expect(mine).toMatchObject({ action_hash: ref.action_hash, author: c.agentPubKey, entry: capability() })

    const seqBefore = (await c.agentInfo('agent_registry')).chain_head.action_seq
    const same = await c.callZome('agent_registry', 'advertise_capability', capability())
    expect(same).toEqual(ref)
    expect((await c.agentInfo('agent_registry')).chain_head.action_seq).toBe(seqBefore)

    const updated = capability({ name: 'node-a2', tags: ['gpu', 'cuda'] })
    const ref2 = await c.callZome('agent_registry', 'advertise_capability', updated)
    expect(ref2.action_hash).not.toBe(ref.action_hash)
    expect(await c.callZome('agent_registry', 'get_capability', c.agentPubKey)).toMatchObject({
      action_hash: ref2.action_hash,
      entry: updated,
    })
    expect(await c.callZome('agent_registry', 'list_nodes', null)).toHaveLength(1)
    expect(
      (await c.callZome('agent_registry', 'find_nodes_by_tag', 'cuda')).map((r) => r.entry.name),
    ).toEqual(['node-a2'])
    expect(await c.callZome('agent_registry', 'find_nodes_by_tag', 'gpu')).toHaveLength(1)
    expect(await c.callZome('agent_registry', 'find_nodes_by_tag', 'gpu-large')).toEqual([])
  })

  it('answers null and empty lists before anything is advertised', async () => {
    const c = await conductor()
    expect(await c.callZome('agent_registry', 'get_capability', c.agentPubKey)).toBeNull()
    expect(await c.callZome('agent_registry', 'list_nodes', null)).toEqual([])
  })

  it('refuses a payload off the contract with the zod issues, writing nothing', async () => {
    const c = await conductor()
    const head = (await c.agentInfo('agent_registry')).chain_head
    const bad = { ...capability(), tags: ['Not A Tag'] }
    const call = c.callZome('agent_registry', 'advertise_capability', bad)
    await expect(call).rejects.toThrow(InvalidZomeCallError)
    const err = (await call.catch((e: unknown) => e)) as InvalidZomeCallError
    expect(err.issues[0]?.path).toEqual(['tags', 0])
    expect(err.message).toMatch(/^agent_registry\.advertise_capability: invalid input: tags\.0: /)
    await expect(c.callZome('agent_registry', 'get_capability', 'not-a-hash')).rejects.toThrow(
      InvalidZomeCallError,
    )
    expect((await c.agentInfo('agent_registry')).chain_head).toEqual(head)
  })

  it('implements every zome function of the contract', () => {
    const missing = DNA_NAMES.flatMap((dna) =>
      Object.keys(contract[dna].functions)
        .filter((fn) => !(fn in coordinatorZomes[dna]))
        .map((fn) => `${dna}.${fn}`),
    )
    expect(missing).toEqual([])
  })

  it('emits every committed record through opsCommitted', async () => {
    const c = await conductor()
    const events: OpsCommittedEvent[] = []
    c.onOpsCommitted((e) => events.push(e))
    await c.callZome('agent_registry', 'advertise_capability', capability())
    expect(events).toHaveLength(1)
    expect(events[0]!.dna).toBe('agent_registry')
    // Create + AllNodes + AgentToCapability + one TagToAgent per tag.
    expect(events[0]!.records.map((r) => r.signed_action.hashed.content.type)).toEqual([
      'Create',
      'CreateLink',
      'CreateLink',
      'CreateLink',
      'CreateLink',
    ])
    expect('Present' in events[0]!.records[0]!.entry).toBe(true)
  })

  it('delivers signals through the transport to local and connected handlers', async () => {
    const hub = new MemorySignalHub()
    const a = await conductor({ signalTransport: hub.connect() })
    const b = await conductor({ signalTransport: hub.connect() })
    const got: Signal[] = []
    a.onSignal((s) => got.push(s))
    const off = b.onSignal((s) => got.push(s))
    await a.broadcastSignal('agent_registry', { cpu_pct: 12 })
    expect(got).toEqual([
      { dna: 'agent_registry', from: a.agentPubKey, payload: { cpu_pct: 12 } },
      { dna: 'agent_registry', from: a.agentPubKey, payload: { cpu_pct: 12 } },
    ])
    off()
    await b.broadcastSignal('agent_registry', 'hi')
    expect(got).toHaveLength(3)
  })
})
