import { afterEach, describe, expect, it } from 'vitest'
import {
  createEmbeddedConductor,
  decodeHashB64,
  type EmbeddedConductor,
  InvalidEntryError,
} from '../../../host/conductor/embedded/index.ts'
import type { NetworkConfig } from '../../../host/config/network-schema.ts'
import { capability } from './fixtures/capability.ts'
import { copyChains } from './fixtures/mesh-conductors.ts'
import { tempDir } from './fixtures/test-cell.ts'

const NETWORK: NetworkConfig = {
  name: 'test',
  seed: 'wasm-seed',
  backend: 'embedded',
  dna_properties: {},
  heartbeat: { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 10_000 },
  libp2p: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], psk: null },
}

const open: EmbeddedConductor[] = []
async function conductor(): Promise<EmbeddedConductor> {
  // No validator given: the conductor loads workdir/ripple_rules.wasm (the Rust rules).
  const c = await createEmbeddedConductor({ dataDir: await tempDir(), network: NETWORK })
  open.push(c)
  return c
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})

describe('embedded conductor with the Rust rules (wasm)', () => {
  it('stores a valid capability', async () => {
    const c = await conductor()
    const ref = await c.callZome('agent_registry', 'advertise_capability', capability())
    expect((await c.callZome('agent_registry', 'get_capability', c.agentPubKey))?.action_hash).toBe(
      ref.action_hash,
    )
  })

  it("refuses an invalid NodeCapability that got past zod with the rule's message, writing nothing", async () => {
    const c = await conductor()
    const cell = c.cell('agent_registry')
    const head = cell.chain.head
    const bad = capability({
      hardware: { ...capability().hardware, cpu: { ...capability().hardware.cpu, cores: 8, threads: 4 } },
    })
    const call = cell.call((hdk) => hdk.create_entry('NodeCapability', bad))
    await expect(call).rejects.toThrow(InvalidEntryError)
    const err = (await call.catch((e: unknown) => e)) as InvalidEntryError
    expect(err.rule).toBe('node_capability.hardware_cpu_threads_below_cores')
    expect(err.message).toMatch(/hardware\.cpu\.threads \(4\) must be at least hardware\.cpu\.cores \(8\)/)
    expect(cell.chain.head).toEqual(head)
    expect(c.store.chainHead(cell.dnaHash, cell.agentPubKey)?.seq).toBe(head.seq)
  })

  it("refuses an update of another agent's capability", async () => {
    const alice = await conductor()
    const bob = await conductor()
    const bobs = await bob.callZome('agent_registry', 'advertise_capability', capability({ name: 'bob' }))
    copyChains(bob, alice)
    expect((await alice.callZome('agent_registry', 'list_nodes', null)).map((r) => r.entry.name)).toEqual([
      'bob',
    ])

    const forged = alice
      .cell('agent_registry')
      .call((hdk) => hdk.update_entry(decodeHashB64(bobs.action_hash), capability({ name: 'not-bob' })))
    await expect(forged).rejects.toThrow(/node_capability\.update_author: only the original author/)
  })
})
