/**
 * The node's components are typed by ports: each field of `Components` (host/node/components.ts)
 * names an interface, or a type alias of one, never a class. Services, the API and the tests then
 * depend on what a component offers the rest of the node, not on the class that builds it. Read with
 * the TypeScript compiler, which resolves each field's type to where it is declared.
 */
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../../e2e/ripple-process.ts'

/** Each field and the port it is typed by (`| null` left out), with where the port is declared. */
const PORTS: Record<string, string> = {
  logger: 'Logger', // log/logger.ts (pino's)
  dataDir: 'string',
  network: 'NetworkConfig', // config/network-schema.ts
  backend: 'NetworkBackend', // node/network-backend.ts
  conductor: 'ConductorPort', // interface/conductor-port.ts
  budget: 'BudgetPort', // interface/budget-port.ts
  models: 'ModelsPort', // inference/models-port.ts
  report: 'ReportPort', // registry/report-port.ts
  description: 'SelfDescription', // node/components.ts
  registry: 'RegistryPort', // registry/registry-port.ts
  peers: 'LivePeers', // interface/live-peers.ts
  ipfs: 'IpfsStore', // ipfs/ipfs-store.ts
  artifacts: 'ArtifactsPort', // artifacts/artifacts-port.ts
  keeper: 'Startable', // interface/startable.ts
  sealer: 'Startable', // interface/startable.ts
  policies: 'PoliciesPort', // policy/policies-port.ts
  splits: 'SplitsPort', // split/splits-port.ts
  workers: 'WorkersPort', // workers/workers-port.ts
  scheduler: 'SchedulerPort', // scheduler/scheduler-port.ts
  usage: 'UsagePort', // usage/usage-port.ts
  meshUsage: 'MeshUsagePort', // usage/mesh-usage-port.ts
  metrics: 'MetricsPort', // metrics/metrics-port.ts
  direct: 'DirectPort', // requests/direct-port.ts
  aliases: 'AliasesPort', // requests/alias-service.ts
  requests: 'RequestsPort', // requests/requests-port.ts
  memory: 'MemoryPort', // memory/memory-port.ts
}

type Kind = 'interface' | 'type' | 'class' | 'primitive'

interface Field {
  name: string
  /** The type as written, less `| null`. */
  port: string
  kind: Kind
}

const isClass = (symbol: ts.Symbol | undefined) =>
  symbol?.declarations?.some((d) => ts.isClassDeclaration(d)) === true

/** Whether a type, or any type it is a union or intersection of, is a class's instances. */
function hasClass(type: ts.Type): boolean {
  if (type.isUnionOrIntersection()) return type.types.some(hasClass)
  return isClass(type.getSymbol())
}

function kindOf(checker: ts.TypeChecker, node: ts.TypeNode): Kind {
  if (!ts.isTypeReferenceNode(node)) return 'primitive'
  let symbol = checker.getSymbolAtLocation(node.typeName)
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol)
  const declarations = symbol?.declarations ?? []
  if (declarations.some((d) => ts.isClassDeclaration(d))) return 'class'
  if (declarations.some((d) => ts.isInterfaceDeclaration(d))) return 'interface'
  // An alias may still name a class (`type Models = ModelManager`, or one part of an intersection).
  if (declarations.some((d) => ts.isTypeAliasDeclaration(d)))
    return hasClass(checker.getTypeFromTypeNode(node)) ? 'class' : 'type'
  return 'class'
}

/** The fields of the `Components` interface in `file` of `program`. */
function fieldsOf(program: ts.Program, file: string): Field[] {
  const source = program.getSourceFile(file)
  if (source === undefined) throw new Error(`${file} is not in the program`)
  const checker = program.getTypeChecker()
  const components = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Components',
  )
  if (components === undefined) throw new Error(`no Components interface in ${file}`)
  return components.members.filter(ts.isPropertySignature).map((member) => {
    const written = member.type!
    const parts = ts.isUnionTypeNode(written)
      ? written.types.filter(
          (t) => !(ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword),
        )
      : [written]
    if (parts.length !== 1) throw new Error(`${member.name.getText()} is typed by more than one type`)
    const node = parts[0]!
    return { name: member.name.getText(), port: node.getText(), kind: kindOf(checker, node) }
  })
}

function compilerOptions(): ts.CompilerOptions {
  const { config } = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.json'), ts.sys.readFile)
  return ts.parseJsonConfigFileContent(config, ts.sys, REPO_ROOT).options
}

describe("the node's components", () => {
  it('reads what it checks (a class, and an alias of one, are caught; ports and primitives pass)', () => {
    const file = join(REPO_ROOT, 'planted-components.ts')
    const text = [
      'class Manager { #x = 1 }',
      'interface Port { run(): void }',
      'type Shaped = Port & { more: number }',
      'type Renamed = Manager',
      'export interface Components {',
      '  manager: Manager | null',
      '  port: Port',
      '  shaped: Shaped',
      '  renamed: Renamed',
      '  dir: string',
      '}',
    ].join('\n')
    const host = ts.createCompilerHost({})
    const read = host.getSourceFile
    host.getSourceFile = (name, language, ...rest) =>
      name === file ? ts.createSourceFile(name, text, language, true) : read(name, language, ...rest)
    const program = ts.createProgram([file], { noLib: true }, host)
    expect(fieldsOf(program, file)).toEqual([
      { name: 'manager', port: 'Manager', kind: 'class' },
      { name: 'port', port: 'Port', kind: 'interface' },
      { name: 'shaped', port: 'Shaped', kind: 'type' },
      { name: 'renamed', port: 'Renamed', kind: 'class' },
      { name: 'dir', port: 'string', kind: 'primitive' },
    ])
  })

  const file = join(REPO_ROOT, 'host', 'node', 'components.ts')
  const fields = fieldsOf(ts.createProgram([file], compilerOptions()), file)

  it('are each typed by the port the table names', () => {
    expect(Object.fromEntries(fields.map((f) => [f.name, f.port]))).toEqual(PORTS)
  })

  it('are typed by no class', () => {
    expect(fields.filter((f) => f.kind === 'class').map((f) => `${f.name}: ${f.port}`)).toEqual([])
  })
})
