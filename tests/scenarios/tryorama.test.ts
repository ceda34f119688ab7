/**
 * The scenarios are written for a tryorama-shaped harness so they can run under the real
 * @holochain/tryorama against real Holochain conductors. That needs `holochain`, `hc` and
 * `kitsune2-bootstrap-srv` on PATH (and @holochain/tryorama installed, and workdir/ripple.happ
 * built); none of them can be installed on the machines this project is tested on, so here this
 * says plainly that it skipped.
 */
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'

const REQUIRED = ['holochain', 'hc', 'kitsune2-bootstrap-srv']

function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, binary), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

const missing = REQUIRED.filter((binary) => !onPath(binary))
if (missing.length > 0)
  console.log(`skipped: holochain/hc/kitsune2-bootstrap-srv not on PATH (missing: ${missing.join(', ')})`)

describe('scenarios under real tryorama', () => {
  it.skipIf(missing.length > 0)(
    'runs a write-visible-on-all scenario on real Holochain conductors',
    async () => {
      // Loaded by name at run time: the package is only present where Holochain is.
      const tryoramaModule = '@holochain/tryorama'
      const tryorama = (await import(tryoramaModule)) as TryoramaApi
      const happ = join(process.cwd(), 'workdir', 'ripple.happ')
      await tryorama.runScenario(async (scenario) => {
        const [alice, bob] = await scenario.addPlayersWithApps([
          { appBundleSource: { type: 'path', value: happ } },
          { appBundleSource: { type: 'path', value: happ } },
        ])
        await scenario.shareAllAgents()
        const cell = (player: TryoramaPlayer) => player.namedCells.get('agent_registry')!
        await cell(alice!).callZome({
          zome_name: 'agent_registry',
          fn_name: 'advertise_capability',
          payload: capability({ name: 'alice' }),
        })
        await tryorama.dhtSync([alice!, bob!], cell(alice!).cell_id[0])
        const seen = (await cell(bob!).callZome({
          zome_name: 'agent_registry',
          fn_name: 'get_capability',
          payload: encodeHashB64(alice!.agentPubKey),
        })) as { entry: { name: string } } | null
        expect(seen?.entry.name).toBe('alice')
      })
    },
  )
})

/** The few parts of @holochain/tryorama's API this test uses. */
interface TryoramaCell {
  cell_id: [Uint8Array, Uint8Array]
  callZome(request: { zome_name: string; fn_name: string; payload: unknown }): Promise<unknown>
}
interface TryoramaPlayer {
  agentPubKey: Uint8Array
  namedCells: Map<string, TryoramaCell>
}
interface TryoramaApi {
  runScenario(
    fn: (scenario: {
      addPlayersWithApps(apps: unknown[]): Promise<TryoramaPlayer[]>
      shareAllAgents(): Promise<void>
    }) => Promise<void>,
  ): Promise<void>
  dhtSync(players: TryoramaPlayer[], dnaHash: Uint8Array): Promise<void>
}
