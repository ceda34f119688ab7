/**
 * What the embedded conductor knows of a DNA (its entry and link types, in index order, as the contract
 * lists them) and how its hash is made.
 *
 * DNA hash = blake2b-256 over (dna name, network name, network seed, properties as canonical JSON,
 * the rules' lineage): like Holochain's network seed and properties modifiers, it keeps networks with
 * different seeds, properties or rules lineages on separate DHTs.
 */
import { canonicalJson } from '../../../zomes-bindings/canonical-json.ts'
import type { DnaName } from '../../../zomes-bindings/index.ts'
import { encodeCanonical } from '../../identity/canonical.ts'
import { hashContent } from '../../identity/hash.ts'

export interface DnaDef {
  name: DnaName
  /** App entry type names; an entry's `entry_index` is its position here. */
  entryTypes: readonly string[]
  /** Link type names; a link's `link_type` is its position here. */
  linkTypes: readonly string[]
  /** Entry types withheld from the mesh (Holochain's private visibility): their actions travel alone. */
  privateEntryTypes?: readonly string[]
  /** Entry types looked up by key on their author's chain (Hdk.find_keyed), with each entry's keys. */
  entryKeys?: Readonly<Record<string, (entry: unknown) => readonly string[]>>
}

/** The visibility an app entry of `entryType` is written with in `dna`. */
export function visibilityOf(dna: DnaDef, entryType: string): 'Public' | 'Private' {
  return dna.privateEntryTypes?.includes(entryType) ? 'Private' : 'Public'
}

/**
 * The rules' lineage, in every DNA hash: the sha256 of the first release's rules wasm (0.1.0), not of
 * this release's. Releases of one lineage share a mesh while machines upgrade one at a time: a newer
 * release's rules read everything an older one writes, and a new form is written only once every member
 * reads it (interface/release.ts). Hashing each release's own wasm would split the mesh, silently, at
 * every change of the rules; a change that cannot keep to this rule starts a new lineage, and a new mesh.
 */
export const RULES_LINEAGE = '50e2102db126946c768dc70bb9507b4765c753e1cd5e7da790168236104fac56'

export interface DnaModifiers {
  networkName: string
  networkSeed: string
  properties: Record<string, unknown>
  /** The rules' lineage (RULES_LINEAGE; tests name their own). */
  rulesSha256: string
}

export function dnaHashOf(name: DnaName, modifiers: DnaModifiers): Uint8Array {
  const preimage = encodeCanonical([
    name,
    modifiers.networkName,
    modifiers.networkSeed,
    canonicalJson(modifiers.properties),
    modifiers.rulesSha256,
  ])
  return hashContent(preimage, 'dna')
}
