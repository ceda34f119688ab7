/**
 * `npm run bench:docs [name...]`: records each named run of `npm run bench <name>` for the docs (copies
 * bench/results/<name>.json to docs/benchmarks/data/<name>.json with the machine it ran on and the
 * commit), then writes docs/benchmarks/runs.md and its plots again from every recorded run. With no
 * name it only writes them again. tests/unit/docs/bench-plots.test.ts fails when they are stale.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type BenchData, DATA_DIR, readBenchData, reportSchema } from './bench-docs/bench-data.ts'
import { thisCommit, thisMachine } from './bench-docs/machine.ts'
import { benchDocsFiles, PLOTS_DIR } from './bench-docs/runs-page.ts'

const names = process.argv.slice(2)
mkdirSync(DATA_DIR, { recursive: true })
for (const name of names) {
  const from = join('bench/results', `${name}.json`)
  if (!existsSync(from)) throw new Error(`${from} is missing: run \`npm run bench ${name}\` first`)
  const report = reportSchema.parse(JSON.parse(readFileSync(from, 'utf8')))
  const run: BenchData = {
    source: `\`npm run bench ${name}\``,
    recorded_at: new Date().toISOString(),
    ...thisCommit(),
    machine: await thisMachine(),
    report,
  }
  writeFileSync(join(DATA_DIR, `${name}.json`), `${JSON.stringify(run, null, 2)}\n`)
  process.stdout.write(`recorded ${from} -> ${join(DATA_DIR, `${name}.json`)}\n`)
}

const files = benchDocsFiles(readBenchData())
mkdirSync(PLOTS_DIR, { recursive: true })
// A plot no run makes any more (a run removed, a column renamed) goes, so none is left unlinked.
for (const file of readdirSync(PLOTS_DIR)) {
  if (!files.has(join(PLOTS_DIR, file))) rmSync(join(PLOTS_DIR, file))
}
for (const [path, text] of files) {
  const changed = !existsSync(path) || readFileSync(path, 'utf8') !== text
  if (changed) writeFileSync(path, text)
  process.stdout.write(`${changed ? 'wrote' : 'unchanged'} ${path}\n`)
}
