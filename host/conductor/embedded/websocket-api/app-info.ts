/**
 * The embedded conductor as Holochain describes an installed app: one app (the hApp's name), one
 * provisioned cell per DNA, role = DNA name, on the wire as `AppInfo` (app_interface.rs
 * `AppInfo::from_installed_app`).
 */
import { DNA_NAMES, type DnaName } from '../../../../zomes-bindings/index.ts'
import { encodeHashB64 } from '../../../identity/hash.ts'
import { RIPPLE_APP_ID } from '../../ripple-app.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import { pack } from './wire.ts'

export type CellId = [Uint8Array, Uint8Array]

export function cellIdOf(conductor: EmbeddedConductor, dna: DnaName): CellId {
  const cell = conductor.cell(dna)
  return [cell.dnaHash, cell.agentPubKey]
}

/** The DNA whose cell has this id, or null (no such running cell). */
export function dnaOfCell(conductor: EmbeddedConductor, cellId: unknown): DnaName | null {
  if (!Array.isArray(cellId) || !(cellId[0] instanceof Uint8Array) || !(cellId[1] instanceof Uint8Array)) {
    return null
  }
  const [dnaHash, agent] = cellId as CellId
  return (
    DNA_NAMES.find((dna) => {
      const [h, a] = cellIdOf(conductor, dna)
      return Buffer.compare(h, dnaHash) === 0 && Buffer.compare(a, agent) === 0
    }) ?? null
  )
}

export interface AppInfoInit {
  conductor: EmbeddedConductor
  networkSeed: string
  properties: Record<string, Record<string, unknown>>
  /** µs since the epoch. */
  installedAt: number
}

export function appInfo(init: AppInfoInit): Record<string, unknown> {
  const { conductor } = init
  const modifiers = (dna: DnaName) => ({
    network_seed: init.networkSeed,
    properties: pack(init.properties[dna] ?? null),
  })
  return {
    installed_app_id: RIPPLE_APP_ID,
    agent_pub_key: conductor.cell('agent_registry').agentPubKey,
    installed_at: init.installedAt,
    status: { type: 'enabled' },
    cell_info: Object.fromEntries(
      DNA_NAMES.map((dna) => [
        dna,
        [
          {
            type: 'provisioned',
            value: { cell_id: cellIdOf(conductor, dna), dna_modifiers: modifiers(dna), name: dna },
          },
        ],
      ]),
    ),
    manifest: {
      manifest_version: '0',
      name: RIPPLE_APP_ID,
      description: 'Holochain-native peer-to-peer agent mesh',
      roles: DNA_NAMES.map((dna) => ({
        name: dna,
        provisioning: { strategy: 'create', deferred: false },
        dna: {
          path: `./workdir/${dna}.dna`,
          modifiers: { network_seed: init.networkSeed, properties: init.properties[dna] ?? null },
          installed_hash: encodeHashB64(conductor.cell(dna).dnaHash),
          clone_limit: 0,
        },
      })),
      allow_deferred_memproofs: false,
      bootstrap_url: null,
      relay_url: null,
    },
  }
}
