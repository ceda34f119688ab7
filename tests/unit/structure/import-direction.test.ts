/**
 * Dependencies point down. Read from the code's own import lines, the layers from the top: the CLI,
 * the daemon's process, the API, the node that builds the services, the services, and under them the
 * foundations (`identity/`, `storage/`, `config/`, `log/`, `text/`, `runtime/`, `interface/`) that
 * import no service; none imports a layer above it. `interface/` (what every layer shares: Startable,
 * the ports, the peer view, progress) imports only the contract, zod and the contract's own pure-JS
 * hashes.
 *
 * Services meet at seams: a service's internals (the conductor, the TypeScript zomes, the engine,
 * the direct route) are imported by their own folder and the node that builds them, and by nobody
 * else but the reach-ins listed with why, so a new one fails here.
 *
 * And the API contract and its typed client (what the browser dashboard bundles) run on leaves only:
 * nothing they load at run time imports a `node:` builtin or an npm package other than zod.
 */
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../e2e/ripple-process.ts'
import { HOST, hostSources, importsOf } from './host-sources.ts'

/** The layers above the services (0) and the foundations under them (-1); the contract ranks lowest. */
const LAYERS: Record<string, number> = {
  cli: 4,
  daemon: 3,
  api: 2,
  node: 1,
  ...Object.fromEntries(
    ['identity', 'storage', 'config', 'log', 'text', 'runtime', 'interface'].map((f) => [f, -1]),
  ),
}
/** What `interface/` may load besides the contract: zod, and the pure-JS hashes the contract itself uses. */
const INTERFACE_PACKAGES = ['zod', '@noble/hashes']
const rank = (area: string | null) => (area === null ? -2 : (LAYERS[area] ?? 0))

interface Seam {
  /** Repo path prefixes of the internals. */
  internals: string[]
  /** Who may import them besides the internals themselves. */
  owners: string[]
}

const SEAMS: Record<string, Seam> = {
  // Services call the conductor through interface/conductor-port.ts; the node builds it.
  conductor: { internals: ['host/conductor/'], owners: ['host/node/'] },
  // The TypeScript twins of the Rust coordinator zomes: installed by the embedded conductor, called
  // by everyone else through the conductor port.
  zomes: {
    internals: ['host/conductor/embedded/zomes/'],
    owners: ['host/conductor/embedded/conductor.ts'],
  },
  // The engine's process boundary: llama-server is started and spoken to by inference/ only.
  engine: { internals: ['host/inference/engine/'], owners: ['host/inference/', 'host/node/'] },
  // The direct route belongs to requests/: others ask run-request.ts, the node builds it.
  direct: { internals: ['host/requests/direct/'], owners: ['host/requests/', 'host/node/'] },
}

/** Today's reach-ins through a seam, each with why it is there; a seam mended takes its line out. */
const REACH_INS: Record<string, string> = {
  'host/api/contract/views.ts -> host/inference/engine/engine-backends.ts':
    "the engine's backend report, as the status view carries it (a type)",
  'host/api/routes/models-route.ts -> host/inference/engine/engine-model.ts':
    'a loaded model as the models route reports it (a type)',
  'host/cli/human-format.ts -> host/inference/engine/engine-backends.ts':
    "the engine's backend report, printed (a type)",
  'host/cli/commands/engine-command.ts -> host/inference/engine/engine-backends.ts':
    '`ripple engine status` chooses the backend in its own process, as a daemon would',
  'host/cli/commands/engine-command.ts -> host/inference/engine/backend-table.ts':
    "the GPU backends `ripple engine build --gpu` builds, as the backends' table names them",
  'host/daemon/daemon.ts -> host/inference/engine/llama-server-process.ts':
    'the daemon removes the engine keys a killed daemon left, before any engine starts',
  'host/workers/model-facts.ts -> host/inference/engine/engine-model.ts':
    'the facts a worker reports of the model it ran on (a type)',
  'host/api/contract/views.ts -> host/requests/direct/served-leaf.ts':
    'the leaf check /api/served/check answers (a type)',
  'host/api/mcp/task-tools.ts -> host/requests/direct/direct-request.ts':
    "a request's hash told from a task's, so MCP's task tool shows either",
  'host/cli/commands/task-command.ts -> host/requests/direct/direct-request.ts':
    "a request's hash told from a task's, so `ripple task show` shows either",
  'host/metrics/daemon-metrics.ts -> host/requests/direct/direct-inference.ts':
    "the direct route's counters, exported as metrics (a type)",
  'host/metrics/metrics-port.ts -> host/requests/direct/direct-inference.ts':
    "the direct route's counters, as the direct service hands them to the metrics (a type)",
}

const within = (path: string, prefixes: readonly string[]) => prefixes.some((p) => path.startsWith(p))

/** Every import through a seam by a file that is neither inside it nor one of its owners. */
function reachIns(files: readonly { path: string; text: string }[]): string[] {
  const found: string[] = []
  for (const { path, text } of files) {
    const from = relative(REPO_ROOT, path)
    for (const target of importsOf(path, text))
      for (const seam of Object.values(SEAMS))
        if (within(target, seam.internals) && !within(from, [...seam.internals, ...seam.owners])) {
          found.push(`${from} -> ${target}`)
          break
        }
  }
  return found
}

/**
 * What a file loads at run time, as written: static imports and re-exports (a statement may span
 * lines) and dynamic `import()`. `import type` / `export type` are erased, and so is `typeof import()`.
 * A statement whose names are all `type X` is not: under `verbatimModuleSyntax` it stays `import {}`.
 */
function runtimeSpecifiers(text: string): string[] {
  const statements = [
    ...text.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[\w$*{},\s]*?\bfrom\s*)?'([^']+)'/gm),
  ]
  const dynamic = [...text.matchAll(/(?<!typeof\s*)\bimport\s*\(\s*'([^']+)'\s*\)/g)]
  return [...statements.filter((m) => m[1] === undefined).map((m) => m[2]!), ...dynamic.map((m) => m[1]!)]
}

const LEAF_PACKAGES = ['zod']

/**
 * Walks what `roots` load at run time through relative imports and returns, for every npm package
 * other than zod and every `node:` builtin on the way, the shortest import chain that reaches it.
 * `zomes-bindings/` is the zomes' own contract, shared with the browser as it is: not walked.
 */
function nonLeaves(files: readonly { path: string; text: string }[], roots: readonly string[]): string[] {
  const texts = new Map(files.map(({ path, text }) => [relative(REPO_ROOT, path), text]))
  const chains = new Map(roots.map((root) => [root, [root]]))
  const queue = [...roots]
  const found: string[] = []
  for (let module = queue.shift(); module !== undefined; module = queue.shift()) {
    const chain = chains.get(module)!
    const text = texts.get(module)
    if (text === undefined) {
      found.push(`${chain.join(' -> ')} (not found)`)
      continue
    }
    for (const spec of runtimeSpecifiers(text)) {
      if (!spec.startsWith('.')) {
        if (!LEAF_PACKAGES.includes(spec)) found.push(`${[...chain, spec].join(' -> ')}`)
        continue
      }
      const target = relative(REPO_ROOT, resolve(REPO_ROOT, dirname(module), spec))
      if (target.startsWith('zomes-bindings/') || chains.has(target)) continue
      chains.set(target, [...chain, target])
      queue.push(target)
    }
  }
  return found
}

/** The first folder under host/ (`scheduler`, `api`, ...), or null outside host/. */
const area = (repoPath: string) => (repoPath.startsWith('host/') ? repoPath.split('/')[1]! : null)

function violations(files: readonly { path: string; text: string }[]): string[] {
  const found: string[] = []
  for (const { path, text } of files) {
    const from = area(relative(REPO_ROOT, path))
    for (const target of importsOf(path, text)) {
      const to = area(target)
      const line = `${relative(REPO_ROOT, path)} -> ${target}`
      if (from === 'interface' && !target.startsWith('zomes-bindings/') && to !== 'interface')
        found.push(line)
      else if (from !== null && rank(to) > rank(from)) found.push(line)
    }
    // Not even types from npm: a leaf is what the browser and every layer can load.
    if (from === 'interface')
      for (const [, spec = ''] of text.matchAll(/from\s*'([^.'][^']*)'/g))
        if (!INTERFACE_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`)))
          found.push(`${relative(REPO_ROOT, path)} -> ${spec}`)
  }
  return found
}

describe('imports point down', () => {
  it('reads what it checks (a planted upward import is caught)', () => {
    const planted = [
      {
        path: join(HOST, 'scheduler', 'x.ts'),
        text: "import type { Startable } from '../daemon/startable.ts'",
      },
      { path: join(HOST, 'memory', 'y.ts'), text: "export { x } from '../api/openai/mesh-inference.ts'" },
      { path: join(HOST, 'api', 'z.ts'), text: "const m = await import('../cli/main.ts')" },
      { path: join(HOST, 'interface', 'w.ts'), text: "import { x } from '../log/logger.ts'" },
      { path: join(HOST, 'interface', 'v.ts'), text: "import type { Libp2p } from '@libp2p/interface'" },
      { path: join(HOST, 'node', 'n.ts'), text: "import { ApiServer } from '../api/api-server.ts'" },
      {
        path: join(HOST, 'registry', 'r.ts'),
        text: "import type { Components } from '../node/components.ts'",
      },
      { path: join(HOST, 'cli', 'ok.ts'), text: "import { x } from '../api/client/index.ts'" },
      { path: join(HOST, 'api', 'ok.ts'), text: "import type { HostNode } from '../node/host-node.ts'" },
      { path: join(HOST, 'interface', 'ok.ts'), text: "import { z } from 'zod'" },
      { path: join(HOST, 'storage', 's.ts'), text: "import type { Task } from '../scheduler/task.ts'" },
      { path: join(HOST, 'log', 'ok.ts'), text: "import { printable } from '../text/printable.ts'" },
      { path: join(HOST, 'identity', 'ok.ts'), text: "import { x } from '../../zomes-bindings/index.ts'" },
    ]
    expect(violations(planted)).toEqual([
      'host/scheduler/x.ts -> host/daemon/startable.ts',
      'host/memory/y.ts -> host/api/openai/mesh-inference.ts',
      'host/api/z.ts -> host/cli/main.ts',
      'host/interface/w.ts -> host/log/logger.ts',
      'host/interface/v.ts -> @libp2p/interface',
      'host/node/n.ts -> host/api/api-server.ts',
      'host/registry/r.ts -> host/node/components.ts',
      'host/storage/s.ts -> host/scheduler/task.ts',
    ])
  })

  it('has no import of a layer above, and a leaf interface/', () => {
    const files = hostSources()
    expect(files.length).toBeGreaterThan(200)
    expect(violations(files)).toEqual([])
  })
})

describe('services meet at their seams', () => {
  const files = hostSources()

  it('reads what it checks (a planted reach-in is caught; owners and the internals themselves pass)', () => {
    const planted = [
      { path: join(HOST, 'memory', 'm.ts'), text: "import { x } from '../conductor/embedded/cell.ts'" },
      { path: join(HOST, 'api', 'a.ts'), text: "import { x } from '../inference/engine/engine-model.ts'" },
      {
        path: join(HOST, 'workers', 'w.ts'),
        text: "export { x } from '../requests/direct/direct-runner.ts'",
      },
      { path: join(HOST, 'conductor', 'embedded', 'hdk.ts'), text: "import { x } from './zomes/index.ts'" },
      { path: join(HOST, 'node', 'ok.ts'), text: "import { x } from '../conductor/embedded/index.ts'" },
      { path: join(HOST, 'inference', 'ok.ts'), text: "import { x } from './engine/engine-model.ts'" },
      { path: join(HOST, 'requests', 'ok.ts'), text: "import { x } from './direct/direct-service.ts'" },
      { path: join(HOST, 'conductor', 'embedded', 'zomes', 'ok.ts'), text: "import { x } from './index.ts'" },
    ]
    expect(reachIns(planted)).toEqual([
      'host/memory/m.ts -> host/conductor/embedded/cell.ts',
      'host/api/a.ts -> host/inference/engine/engine-model.ts',
      'host/workers/w.ts -> host/requests/direct/direct-runner.ts',
      'host/conductor/embedded/hdk.ts -> host/conductor/embedded/zomes/index.ts',
    ])
  })

  it('has no reach-in but the listed ones', () => {
    expect(reachIns(files).filter((line) => !(line in REACH_INS))).toEqual([])
  })

  it('lists no reach-in that is gone (a mended seam takes its line out)', () => {
    const found = new Set(reachIns(files))
    expect(Object.keys(REACH_INS).filter((line) => !found.has(line))).toEqual([])
  })
})

describe('the API contract and client run on leaves', () => {
  const ROOTS = ['host/api/contract/index.ts', 'host/api/client/index.ts']

  it('reads what it checks (a planted node-only or npm import is caught, with its chain)', () => {
    const file = (path: string, text: string) => ({ path: join(REPO_ROOT, path), text })
    const planted = [
      file(
        'host/api/contract/index.ts',
        [
          "export * from './routes.ts'",
          "export type { Hidden } from '../../membership/invite.ts'",
          "import type { Erased } from '../../net/peer-links.ts'",
          "import {\n  type Shape,\n  SCHEMA,\n} from '../../membership/invite-schema.ts'",
        ].join('\n'),
      ),
      file(
        'host/api/contract/routes.ts',
        [
          "import { z } from 'zod'",
          "import { ROLES } from '../../../zomes-bindings/index.ts'",
          "// import { x } from 'node:fs'",
          "type Lazy = typeof import('../../net/create-node.ts')",
          "const lazy = () => import('../../identity/hash.ts')",
        ].join('\n'),
      ),
      file('host/api/client/index.ts', "import { readEvents } from '../../text/event-stream.ts'"),
      file('host/membership/invite-schema.ts', "import { z } from 'zod'"),
      file('host/identity/hash.ts', "import sodium from 'libsodium-wrappers'"),
      file('host/text/event-stream.ts', "import { Buffer } from 'node:buffer'"),
    ]
    expect(nonLeaves(planted, ROOTS)).toEqual([
      'host/api/client/index.ts -> host/text/event-stream.ts -> node:buffer',
      'host/api/contract/index.ts -> host/api/contract/routes.ts -> host/identity/hash.ts -> libsodium-wrappers',
    ])
  })

  it('loads no node: builtin and no npm package but zod, through any import chain', () => {
    const files = hostSources()
    expect(nonLeaves(files, ROOTS)).toEqual([])
  })
})
