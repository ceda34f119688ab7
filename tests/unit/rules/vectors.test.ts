/**
 * The shared vectors through the rules wasm (cargo test runs the same files natively), and the zod
 * contract against the same vectors: both must accept every valid entry and refuse every entry that breaks
 * a rule decidable from the entry alone.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadRulesValidator } from '../../../host/conductor/embedded/validation/rules-wasm.ts'
import type {
  RulesValidator,
  ValidationInput,
} from '../../../host/conductor/embedded/validation/validator.ts'
import { contract, DNA_NAMES, type DnaContract, type DnaName } from '../../../zomes-bindings/index.ts'

interface Vector {
  name: string
  input: ValidationInput
  expect:
    | { outcome: 'valid' }
    | { outcome: 'invalid'; rule: string }
    | { outcome: 'unresolved'; deps?: string[] }
}

const dir = new URL('../../vectors/', import.meta.url)
const files = readdirSync(dir).filter((f) => f.endsWith('.json'))
const vectors: Vector[] = files.flatMap((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Vector[])

/** Rules that need more than the entry (author, properties, deps, op, the envelope): zod cannot see them.
 * (`proof_invalid`: a served leaf's path is checked against the root of the runner's batch it cites.) */
const CONTEXT_RULE =
  /^input\.|\.(\w+_is_\w+|self_grant|no_progenitor|progenitor|author_role|author_role_unknown|properties_\w+|meets_requirements|proof_invalid|\w+_type|\w+_mismatch|attempt_exceeds_max|slot_exceeds_fan_out|votes_exceed_fan_out|shard_out_of_range|no_update|no_delete|update_\w+|delete_author)$/
/** Field rules about sizes, ranges and formats. */
const FIELD_RULE = /_(length|count|range|format|size|control)$/

/** The contract's schema for the vector's entry type (none for the vectors of unknown DNAs and types). */
function entrySchema(input: ValidationInput) {
  const dna: DnaContract | undefined = (contract as Record<string, DnaContract>)[input.dna]
  return dna?.entryTypes[input.entry_type]
}

let rules: RulesValidator
beforeAll(async () => {
  rules = await loadRulesValidator()
})

describe('rules wasm agrees with every vector', () => {
  it('has one vector file per DNA', () => {
    expect(files.map((f) => f.replace('.json', '')).sort()).toEqual([...DNA_NAMES].sort())
  })

  it.each(vectors.map((v) => [v.name, v] as const))('%s', (_, v) => {
    const got = rules.validate(v.input)
    expect(got.outcome).toBe(v.expect.outcome)
    if (got.outcome === 'invalid' && v.expect.outcome === 'invalid') {
      expect(got.rule).toBe(v.expect.rule)
      expect(got.message.length).toBeGreaterThan(0)
    }
    if (got.outcome === 'unresolved' && v.expect.outcome === 'unresolved' && v.expect.deps) {
      expect(got.deps).toEqual(v.expect.deps)
    }
  })
})

describe('a refusal of a runner’s proof names its leaf (served-records drops that proof by it)', () => {
  const served = vectors.filter((v) => v.input.entry_type === 'ServedLeaves')
  const leaves = (v: (typeof vectors)[number]) => (v.input.entry as { leaves: { proof: unknown }[] }).leaves

  it('names a leaf with a proof for a path that does not verify, through the wasm', () => {
    const v = served.find((x) => x.name.includes('a path that does not verify'))!
    const got = rules.validate(v.input)
    expect(got).toMatchObject({ outcome: 'invalid', rule: 'served_leaves.proof_invalid' })
    const leaf = (got as { leaf?: number }).leaf
    expect(leaf).toBeTypeOf('number')
    expect(leaves(v)[leaf!]?.proof).not.toBeNull()
  })

  it('names none for a refusal of the requester’s own fields', () => {
    const v = served.find(
      (x) => x.expect.outcome === 'invalid' && x.expect.rule === 'served_leaves.leaves_reason_length',
    )!
    expect(rules.validate(v.input)).not.toHaveProperty('leaf')
  })
})

describe('contract (zod) agrees with the rules', () => {
  const entryVectors = vectors.filter((v) => v.input.op !== 'delete' && entrySchema(v.input))

  it('accepts every valid entry', () => {
    const refused = entryVectors
      .filter((v) => v.expect.outcome !== 'invalid')
      .filter((v) => !entrySchema(v.input)!.safeParse(v.input.entry).success)
    expect(refused.map((v) => v.name)).toEqual([])
  })

  it('refuses every entry that breaks a rule decidable from the entry alone', () => {
    const accepted = entryVectors
      .filter((v) => v.expect.outcome === 'invalid' && !CONTEXT_RULE.test(v.expect.rule))
      .filter((v) => entrySchema(v.input)!.safeParse(v.input.entry).success)
    expect(accepted.map((v) => v.name)).toEqual([])
  })

  it.each(DNA_NAMES.flatMap((dna) => Object.keys(contract[dna].entryTypes).map((e) => [dna, e] as const)))(
    '%s/%s has vectors: valid, 5+ invalid, and a size/range/format one zod refuses too',
    (dna: DnaName, entryType: string) => {
      const own = vectors.filter((v) => v.input.dna === dna && v.input.entry_type === entryType)
      const invalid = own.filter((v) => v.expect.outcome === 'invalid')
      expect(own.some((v) => v.expect.outcome === 'valid')).toBe(true)
      expect(invalid.length).toBeGreaterThanOrEqual(5)
      const fieldRule = invalid.filter(
        (v) => v.expect.outcome === 'invalid' && FIELD_RULE.test(v.expect.rule) && v.input.op === 'create',
      )
      expect(fieldRule.some((v) => !entrySchema(v.input)!.safeParse(v.input.entry).success)).toBe(true)
    },
  )
})

describe('loadRulesValidator', () => {
  it('names a missing wasm file and how to build it', async () => {
    await expect(loadRulesValidator('/nonexistent/ripple_rules.wasm')).rejects.toThrow(/build-wasm\.sh/)
  })

  it('refuses a module without the rules exports', async () => {
    const empty = join(tmpdir(), `ripple-empty-${process.pid}.wasm`)
    writeFileSync(empty, Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0))
    try {
      await expect(loadRulesValidator(empty)).rejects.toThrow(
        /does not export memory, alloc, dealloc and validate/,
      )
    } finally {
      rmSync(empty)
    }
  })

  it('answers malformed input with input.malformed and keeps working', () => {
    const bad = rules.validate({ dna: 'agent_registry' } as ValidationInput)
    expect(bad).toMatchObject({ outcome: 'invalid', rule: 'input.malformed' })
    const valid = vectors.find((v) => v.expect.outcome === 'valid')!
    expect(rules.validate(valid.input)).toEqual({ outcome: 'valid' })
  })
})
