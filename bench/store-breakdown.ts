/**
 * What a daemon stored of other agents' ops over a window (issue 57), read from its store after the
 * window: counted by DNA, action type, entry or link type, and how the row is kept: `chain` (a
 * contiguous chain copy: the chains this peer is an activity holder of, genesis, or every op while
 * records are not sharded) or `held` (a basis holder's or an everywhere op's copy). A window's ops are
 * those signed within it (the store keeps no arrival time; a slot's cover arrives within seconds).
 */
import { join } from 'node:path'
import type { Action } from '@holochain/client'
import Database from 'better-sqlite3'
import { decodeAction } from '../host/conductor/embedded/action.ts'
import { dnaHashOf, RULES_LINEAGE } from '../host/conductor/embedded/dna.ts'
import { CONDUCTOR_DB_FILE } from '../host/conductor/embedded/index.ts'
import { loadNetworkConfig } from '../host/config/network-config.ts'
import { MESH_FILE } from '../host/membership/private-mesh.ts'
import { contract, DNA_NAMES, type DnaName } from '../zomes-bindings/index.ts'

/** Rows of other agents by `dna type[/entry or link type] chain|held`. */
export type StoredCounts = Map<string, number>

/** The DNA names of a data dir's mesh, by their hash's hex. */
async function dnaNames(dataDir: string): Promise<Map<string, DnaName>> {
  const network = await loadNetworkConfig(join(dataDir, MESH_FILE))
  const modifiers = (dna: DnaName) => ({
    networkName: network.name,
    networkSeed: network.seed,
    properties: network.dna_properties[dna] ?? {},
    rulesSha256: RULES_LINEAGE,
  })
  return new Map(DNA_NAMES.map((dna) => [Buffer.from(dnaHashOf(dna, modifiers(dna))).toString('hex'), dna]))
}

/** The entry or link type an action writes, by name; '' for an action of neither. */
export function typeName(dna: DnaName | undefined, action: Action): string {
  if (dna === undefined) return ''
  if ((action.type === 'Create' || action.type === 'Update') && typeof action.entry_type === 'object')
    return 'App' in action.entry_type
      ? (Object.keys(contract[dna].entryTypes)[action.entry_type.App.entry_index] ?? '?')
      : ''
  if (action.type === 'CreateLink') return contract[dna].linkTypes[action.link_type] ?? '?'
  return ''
}

/** Other agents' rows signed from `fromMs` to `toMs` (wall clock), counted by kind. */
export async function storedBetween(dataDir: string, fromMs: number, toMs: number): Promise<StoredCounts> {
  const names = await dnaNames(dataDir)
  const db = new Database(join(dataDir, CONDUCTOR_DB_FILE), { readonly: true, fileMustExist: true })
  try {
    // The first row of a store is its own agent's first genesis action.
    const self = (db.prepare('SELECT author FROM actions ORDER BY rowid LIMIT 1').get() as { author: Buffer })
      .author
    const rows = db
      .prepare(
        'SELECT dna_hash, bytes, held FROM actions WHERE timestamp >= ? AND timestamp < ? AND author != ?',
      )
      .all(fromMs * 1000, toMs * 1000, self) as { dna_hash: Buffer; bytes: Buffer; held: number }[]
    const counts: StoredCounts = new Map()
    for (const row of rows) {
      const dna = names.get(row.dna_hash.toString('hex'))
      const action = decodeAction(new Uint8Array(row.bytes))
      const type = typeName(dna, action)
      const key = `${dna ?? '?'} ${action.type}${type ? `/${type}` : ''} ${row.held ? 'held' : 'chain'}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    return counts
  } finally {
    db.close()
  }
}
