/**
 * No circles, at build time or at run time. No file under host/ reaches itself through its imports
 * (types included: a circle of types is a circle of ideas), and no two folders import each other both
 * ways. The node builds its services in the order their declared needs give: no component is read
 * late (no Proxy over the components, no asking whether one was built yet), and the node's own
 * services plan without a circle or a missing need.
 */
import { relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { planServices } from '../../../host/node/service-plan.ts'
import { REPO_ROOT } from '../../e2e/ripple-process.ts'
import { HOST, hostSources, importsOf, type Source } from './host-sources.ts'

/** The import graph of the files, by repo path (imports of files outside them left out). */
function graphOf(files: readonly Source[]): Map<string, string[]> {
  const graph = new Map(files.map(({ path, text }) => [relative(REPO_ROOT, path), importsOf(path, text)]))
  for (const [file, targets] of graph)
    graph.set(
      file,
      targets.filter((t) => graph.has(t)),
    )
  return graph
}

/** One chain for each circle found, `a -> b -> a`, each circle once whichever file it was met from. */
function circles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const done = new Set<string>()
  const found = new Map<string, string>()
  const visit = (file: string, chain: string[]): void => {
    const at = chain.indexOf(file)
    if (at >= 0) {
      const circle = chain.slice(at)
      found.set([...circle].sort().join(' '), [...circle, file].join(' -> '))
      return
    }
    if (done.has(file)) return
    for (const target of graph.get(file) ?? []) visit(target, [...chain, file])
    done.add(file)
  }
  for (const file of graph.keys()) visit(file, [])
  return [...found.values()]
}

/** Pairs of host/ folders that import each other. */
function bothWays(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const folder = (path: string) => path.split('/')[1]!
  const edges = new Set<string>()
  for (const [file, targets] of graph)
    for (const target of targets)
      if (folder(file) !== folder(target)) edges.add(`${folder(file)} -> ${folder(target)}`)
  return [...edges]
    .map((edge) => edge.split(' -> ') as [string, string])
    .filter(([a, b]) => a < b && edges.has(`${b} -> ${a}`))
    .map(([a, b]) => `${a} <-> ${b}`)
}

/** What reads a node component late: a Proxy over them, or asking whether one was built yet. */
const LATE_READS = [/new Proxy\b/, /'\w+' in c\b/, /\bin components\b/]

function lateReads(files: readonly Source[]): string[] {
  return files
    .filter(({ path }) => relative(REPO_ROOT, path).startsWith('host/node/'))
    .flatMap(({ path, text }) =>
      LATE_READS.filter((re) => re.test(text)).map((re) => `${relative(REPO_ROOT, path)}: ${re.source}`),
    )
}

const file = (path: string, text: string): Source => ({ path: `${HOST}/${path}`, text })

describe('no import circle', () => {
  it('reads what it checks (planted circles are caught, once each, with their chain)', () => {
    const planted = [
      file('inference/model-manager.ts', "export type { EngineLayout } from './model-types.ts'"),
      file('inference/model-types.ts', "import type { X } from './crash-blame.ts'"),
      file('inference/crash-blame.ts', "import type { EngineLayout } from './model-manager.ts'"),
      file('registry/a.ts', "import { s } from '../split/b.ts'"),
      file('split/b.ts', "import { r } from '../registry/c.ts'"),
      file('registry/c.ts', "import { ok } from '../log/d.ts'"),
      file('log/d.ts', ''),
    ]
    const graph = graphOf(planted)
    expect(circles(graph)).toEqual([
      'host/inference/model-manager.ts -> host/inference/model-types.ts -> host/inference/crash-blame.ts -> host/inference/model-manager.ts',
    ])
    expect(bothWays(graph)).toEqual(['registry <-> split'])
  })

  const graph = graphOf(hostSources())

  it('has no file under host/ that reaches itself through its imports', () => {
    expect(graph.size).toBeGreaterThan(200)
    expect(circles(graph)).toEqual([])
  })

  it('has no two folders under host/ that import each other', () => {
    expect(bothWays(graph)).toEqual([])
  })
})

describe('the node reads no component late', () => {
  it('reads what it checks (a planted Proxy and a was-it-built test are caught, in host/node only)', () => {
    const planted = [
      file('node/a.ts', 'return new Proxy({} as Components, {})'),
      file('node/b.ts', "heldForSplits: () => ('registry' in c ? c.registry.heldForSplits() : 0)"),
      file('registry/ok.ts', "if ('error' in c) throw c.error"),
    ]
    expect(lateReads(planted)).toEqual(['host/node/a.ts: new Proxy\\b', "host/node/b.ts: '\\w+' in c\\b"])
  })

  it('has no Proxy over the components and no test of whether one was built', () => {
    expect(lateReads(hostSources())).toEqual([])
  })
})

describe("the node's services", () => {
  it('plan without a circle or a missing need (the order they are built and started in)', async () => {
    const { nodeServices } = await import('../../../host/node/node-services.ts')
    const factories = nodeServices({} as Parameters<typeof nodeServices>[0])
    const order = planServices(
      Object.entries(factories).map(([name, { needs }]) => ({ name, needs })),
      ['logger', 'dataDir', 'network'],
    )
    expect(order.slice(0, 4)).toEqual(['backend', 'conductor', 'budget', 'models'])
    // The registry before those that add to what it advertises; the memory, which runs requests, last.
    for (const later of ['scheduler', 'splits', 'memory'])
      expect(order.indexOf('registry')).toBeLessThan(order.indexOf(later))
    expect(order.at(-1)).toBe('memory')
  })
})
