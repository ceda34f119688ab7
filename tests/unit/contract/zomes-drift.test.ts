/**
 * The Rust zomes (which need hdk/hdi and cannot be compiled here) and the contract in zomes-bindings/
 * must not drift apart: this reads the Rust sources and the manifests and checks that each DNA's entry
 * types, link types (both in the contract's order: an index is a position) and zome functions are
 * exactly the contract's.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  BROADCAST_SIGNAL_FN,
  COORDINATOR_CALLBACKS,
  contract,
  DNA_NAMES,
  type DnaContract,
  SEND_SIGNAL_FN,
} from '../../../zomes-bindings/index.ts'
import { REPO_ROOT } from '../../e2e/ripple-process.ts'

const read = (...path: string[]) => readFileSync(join(REPO_ROOT, ...path), 'utf8')
/** A crate's sources, its modules beside lib.rs included (a coordinator's functions may sit in any). */
const readCrate = (...src: string[]) =>
  readdirSync(join(REPO_ROOT, ...src))
    .filter((f) => f.endsWith('.rs'))
    .sort()
    .map((f) => read(...src, f))
    .join('\n')

/** The body of `pub enum <name> { ... }`, without comments and attributes. */
function enumBody(source: string, name: string): string {
  const match = new RegExp(`pub enum ${name} \\{([^}]*)\\}`).exec(source)
  if (match === null) throw new Error(`no pub enum ${name}`)
  return match[1]!.replace(/\/\/.*$/gm, '').replace(/#\[[^\]]*\]/g, '')
}

function entryTypesOf(source: string): string[] {
  return [...enumBody(source, 'EntryTypes').matchAll(/(\w+)\s*\(\s*\w+\s*\)/g)].map((m) => m[1]!)
}

/** The entry types of `pub enum EntryTypes` marked `#[entry_type(visibility = "private")]`. */
function privateTypesOf(source: string): string[] {
  const match = /pub enum EntryTypes \{([^}]*)\}/.exec(source)?.[1] ?? ''
  return [...match.matchAll(/#\[entry_type\(visibility = "private"\)\]\s*(\w+)\s*\(/g)].map((m) => m[1]!)
}

function linkTypesOf(source: string): string[] {
  return enumBody(source, 'LinkTypes')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
}

function externsOf(source: string): string[] {
  return [...source.matchAll(/#\[hdk_extern(?:\([^)]*\))?\]\s*pub fn (\w+)/g)].map((m) => m[1]!).sort()
}

describe('the Rust zomes match the contract', () => {
  it('reads what it checks (a drifted source is caught)', () => {
    const drifted = `pub enum EntryTypes {\n  Task(Task),\n  #[entry_type(visibility = "private")]\n  Extra(Extra),\n}\npub enum LinkTypes { A, B, }\n#[hdk_extern]\npub fn extra(_: ()) -> ExternResult<()> {}`
    expect(entryTypesOf(drifted)).toEqual(['Task', 'Extra'])
    expect(linkTypesOf(drifted)).toEqual(['A', 'B'])
    expect(externsOf(drifted)).toEqual(['extra'])
    expect(privateTypesOf(drifted)).toEqual(['Extra'])
  })

  for (const dna of DNA_NAMES) {
    describe(dna, () => {
      const integrity = read('dnas', dna, 'zomes', 'integrity', `${dna}_integrity`, 'src', 'lib.rs')
      const coordinator = readCrate('dnas', dna, 'zomes', 'coordinator', dna, 'src')

      it('has the entry types and link types of the contract, in its order', () => {
        const entryTypes = Object.keys(contract[dna].entryTypes)
        expect(entryTypesOf(integrity)).toEqual(entryTypes)
        expect(linkTypesOf(integrity)).toEqual([...contract[dna].linkTypes])
        // The names the rules crate is handed, by entry index.
        const rules = /entry_types: &\[([^\]]*)\]/.exec(integrity)?.[1] ?? ''
        expect([...rules.matchAll(/"(\w+)"/g)].map((m) => m[1])).toEqual(entryTypes)
        expect(integrity).toContain(`dna: "${dna}"`)
        // A type's visibility is the DNA's: withheld on one backend, it must be withheld on the other.
        const privateTypes: readonly string[] = (contract[dna] as DnaContract).privateEntryTypes ?? []
        expect(privateTypesOf(integrity)).toEqual([...privateTypes])
      })

      it('validates through the shared rules and exports only validate and genesis_self_check from the integrity zome', () => {
        expect(externsOf(integrity)).toEqual(['genesis_self_check', 'validate'])
        expect(integrity).toMatch(/RULES\.validate\(op\)/)
        expect(integrity).toMatch(/RULES\.genesis_self_check\(data\)/)
      })

      it("exports exactly the contract's functions from the coordinator, plus signals and callbacks", () => {
        const expected = [
          ...Object.keys(contract[dna].functions),
          BROADCAST_SIGNAL_FN,
          SEND_SIGNAL_FN,
          ...COORDINATOR_CALLBACKS,
        ]
        expect(externsOf(coordinator)).toEqual(expected.sort())
      })

      it('is packed by a DNA manifest naming both zomes and their wasm', () => {
        const manifest = read('dnas', dna, 'dna.yaml')
        expect(manifest).toMatch(new RegExp(`^name: ${dna}$`, 'm'))
        expect(manifest).toMatch(
          new RegExp(`- name: ${dna}_integrity\\n.*\\n\\s+path: .*/${dna}_integrity\\.wasm`),
        )
        expect(manifest).toMatch(
          new RegExp(`- name: ${dna}\\n.*\\n\\s+path: .*/${dna}\\.wasm\\n.*\\n\\s+- name: ${dna}_integrity`),
        )
      })
    })
  }

  it('the hApp has one role per DNA, and only the rules crate is in the workspace built here', () => {
    const roles = [...read('happ.yaml').matchAll(/^ {2}- name: (\w+)$/gm)].map((m) => m[1])
    expect(roles).toEqual([...DNA_NAMES])
    expect(read('dnas', 'Cargo.toml')).toMatch(/^members = \["rules"\]$/m)
    expect(read('Cargo.toml')).toMatch(/"dnas\/\*\/zomes\/integrity\/\*"/)
  })
})
