/**
 * `docs/reference/cli.md`: every command of `ripple`, walked from the commander program: its usage,
 * arguments and options with their descriptions and defaults. The program is the one `host/cli/main.ts`
 * builds, read off its source (the commands it adds, and where each comes from) since running main.ts
 * parses the command line.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Command, type Help, type Option } from 'commander'
import ts from 'typescript'
import { code, generatedNote, inline, table } from './markdown.ts'

export const MAIN_FILE = 'host/cli/main.ts'

/** The program of `host/cli/main.ts`: its name and description, and the commands it adds, in order. */
export async function cliProgram(file = MAIN_FILE): Promise<Command> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const imports = new Map<string, string>()
  let name: string | undefined
  let description = ''
  const factories: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      for (const element of node.importClause?.namedBindings &&
      ts.isNamedImports(node.importClause.namedBindings)
        ? node.importClause.namedBindings.elements
        : [])
        imports.set(element.name.text, node.moduleSpecifier.text)
    }
    if (ts.isNewExpression(node) && node.expression.getText() === 'Command') {
      const first = node.arguments?.[0]
      if (first && ts.isStringLiteral(first)) name = first.text
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text
      const [arg] = node.arguments
      if (method === 'description' && arg && ts.isStringLiteral(arg)) description = arg.text
      if (method === 'addCommand' && arg && ts.isCallExpression(arg)) factories.push(arg.expression.getText())
    }
    node.forEachChild(visit)
  }
  visit(source)
  if (!name) throw new Error(`${file}: no \`new Command('...')\` found`)
  // The chain is read inside out: the last addCommand is met first.
  const program = new Command(name).description(description)
  for (const factory of factories.reverse()) {
    const from = imports.get(factory)
    if (!from) throw new Error(`${file}: ${factory} is not imported`)
    const module = (await import(pathToFileURL(resolve(dirname(file), from)).href)) as Record<
      string,
      () => Command
    >
    const make = module[factory]
    if (typeof make !== 'function') throw new Error(`${from} exports no ${factory}`)
    program.addCommand(make())
  }
  return program
}

export function cliPage(program: Command): string {
  const all = everyCommand(program).slice(1)
  const help = program.createHelp()
  return [
    generatedNote('the commander definitions in `host/cli`'),
    '',
    '# Command line',
    '',
    `${inline(program.description())}. Every command also takes ${code('-h, --help')}; ` +
      `${code(`${program.name()} --version`)} prints the release.`,
    '',
    table(
      ['Command', 'What it does'],
      all.map((c) => [`[${fullName(c)}](#${anchor(c)})`, inline(summary(c))]),
    ),
    '',
    ...all.flatMap((c) => commandSection(c, help)),
  ].join('\n')
}

function everyCommand(command: Command): Command[] {
  const help = command.createHelp()
  const shown = help.visibleCommands(command).filter((c) => c.name() !== 'help')
  return [command, ...shown.flatMap(everyCommand)]
}

function fullName(command: Command): string {
  const names: string[] = []
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

const anchor = (command: Command) => fullName(command).toLowerCase().replaceAll(' ', '-')
const summary = (command: Command) => command.summary() || command.description().split('\n')[0] || ''

function commandSection(command: Command, help: Help): string[] {
  const depth = Math.min(fullName(command).split(' ').length, 4)
  const lines = [`${'#'.repeat(depth)} ${fullName(command)}`, '', '```sh', usage(command), '```', '']
  if (command.description()) lines.push(inline(command.description()), '')
  if (command.aliases().length > 0) lines.push(`Also: ${command.aliases().map(code).join(', ')}.`, '')
  const args = help.visibleArguments(command)
  if (args.length > 0) {
    lines.push(
      table(
        ['Argument', 'What it is', 'Default'],
        args.map((a) => [
          code(a.name() + (a.variadic ? '...' : '')),
          inline(a.description) + (a.required ? '' : ' (optional)'),
          a.defaultValue === undefined
            ? ''
            : code(a.defaultValueDescription ?? JSON.stringify(a.defaultValue)),
        ]),
      ),
      '',
    )
  }
  const options = help.visibleOptions(command).filter((o) => o.long !== '--help')
  if (options.length > 0) {
    lines.push(
      table(
        ['Option', 'What it does', 'Default'],
        options.map((o) => [code(o.flags), inline(optionText(o)), defaultOf(o)]),
      ),
      '',
    )
  }
  const subcommands = help.visibleCommands(command).filter((c) => c.name() !== 'help')
  if (subcommands.length > 0)
    lines.push(`Commands: ${subcommands.map((c) => `[${c.name()}](#${anchor(c)})`).join(', ')}.`, '')
  return lines
}

function usage(command: Command): string {
  const parents: string[] = []
  for (let c = command.parent; c; c = c.parent) parents.unshift(c.name())
  return [...parents, command.name(), command.usage()].join(' ')
}

function optionText(option: Option): string {
  const notes = [
    option.argChoices ? `one of ${option.argChoices.join(', ')}` : '',
    option.envVar ? `env ${option.envVar}` : '',
    option.mandatory ? 'required' : '',
  ].filter(Boolean)
  return notes.length > 0 ? `${option.description} (${notes.join('; ')})` : option.description
}

/** As the help writes it: the description of the default where the option gives one. */
function defaultOf(option: Option): string {
  if (option.negate || option.defaultValue === undefined) return ''
  return code(option.defaultValueDescription ?? JSON.stringify(option.defaultValue))
}
