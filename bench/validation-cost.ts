/**
 * What the rules wasm costs the embedded conductor: load time, and time per validated op (JSON encode,
 * copy in, validate, copy out, JSON decode) for realistic entries taken from the shared vectors.
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { loadRulesValidator } from '../host/conductor/embedded/validation/rules-wasm.ts'
import type { ValidationInput } from '../host/conductor/embedded/validation/validator.ts'
import type { BenchReport } from './report.ts'

const ITERATIONS = 20_000
const WARMUP = 1_000

/** Valid vectors of three shapes: a large entry, a typical one, and one resolved against deps. */
const CASES: [label: string, file: string, vector: string][] = [
  ['NodeCapability create', 'agent_registry', 'NodeCapability: full capability with a GPU and two models'],
  ['Task create', 'resource_mesh', 'Task: inference task, its input kept by the requester'],
  ['Assignment create (2 deps)', 'resource_mesh', 'Assignment: task author assigns the claimant'],
]

function vectorInput(file: string, name: string): ValidationInput {
  const vectors = JSON.parse(
    readFileSync(new URL(`../tests/vectors/${file}.json`, import.meta.url), 'utf8'),
  ) as {
    name: string
    input: ValidationInput
  }[]
  const found = vectors.find((v) => v.name === name)
  if (!found) throw new Error(`no vector ${name} in tests/vectors/${file}.json`)
  return found.input
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits))

export default async function run(): Promise<BenchReport> {
  let start = performance.now()
  const validator = await loadRulesValidator()
  const coldLoadMs = performance.now() - start
  start = performance.now()
  await loadRulesValidator()
  const instantiateMs = performance.now() - start

  const rows: BenchReport['rows'] = []
  const figures: BenchReport['figures'] = {
    cold_load_ms: round(coldLoadMs),
    instantiate_ms: round(instantiateMs),
  }
  for (const [label, file, name] of CASES) {
    const input = vectorInput(file, name)
    for (let i = 0; i < WARMUP; i++) validator.validate(input)
    const samples = new Float64Array(ITERATIONS)
    for (let i = 0; i < ITERATIONS; i++) {
      const t0 = performance.now()
      const outcome = validator.validate(input)
      samples[i] = (performance.now() - t0) * 1000
      if (outcome.outcome !== 'valid')
        throw new Error(`${label}: expected valid, got ${JSON.stringify(outcome)}`)
    }
    const mean = samples.reduce((a, b) => a + b, 0) / ITERATIONS
    const p95 = samples.sort()[Math.floor(ITERATIONS * 0.95)]!
    const key = label.split(' ')[0]!.toLowerCase()
    rows.push({
      op: label,
      input_bytes: Buffer.byteLength(JSON.stringify(input)),
      mean_us: round(mean),
      p95_us: round(p95),
    })
    figures[`${key}_mean_us`] = round(mean)
    figures[`${key}_p95_us`] = round(p95)
  }
  return {
    name: 'validation-cost',
    rows,
    figures,
    note: `rules wasm (workdir/ripple_rules.wasm) through loadRulesValidator: ${ITERATIONS} validations per op after ${WARMUP} warm-up; cold load = read + compile + instantiate, instantiate = with the module cached`,
  }
}
