/**
 * The systemd unit that runs `ripple up` as a service: a pure function from the options to the unit
 * file's text. The command line carries paths and plain flags only; the agent key and the API token
 * stay in files of the data dir, which the daemon reads itself, so neither shows in `ps`, the unit or
 * `systemctl show`.
 */
import { isAbsolute, join } from 'node:path'

export const SERVICE_NAME = 'ripple'

/** `user`: the user's own manager (`systemctl --user`); `system`: the machine's, running as `runAs`. */
export type ServiceScope = 'user' | 'system'

export interface ServiceUnitOptions {
  scope: ServiceScope
  /** The account a system unit runs as (`User=`); a user unit runs as its owner. */
  runAs?: string
  /** Absolute path of the node binary. */
  node: string
  /** Absolute path of the checkout's bin/ripple.js. */
  script: string
  /** A network name (`networks/<name>.json`) or an absolute path to a network file. */
  network: string
  /** Absolute path of the data dir (agent key, API token, mesh). */
  dataDir: string
  /** The PATH the service sees (the tools the daemon starts are looked up there). */
  path: string
  /** Further `ripple up` flags, already checked to be ones it takes. */
  upArgs?: readonly string[]
}

/** Thrown for options no unit can say safely (a relative path, a newline, a system unit with no user). */
export class ServiceUnitError extends Error {
  static override readonly name = 'ServiceUnitError'
  constructor(message: string) {
    super(message)
    this.name = 'ServiceUnitError'
  }
}

export function systemdUnit(options: ServiceUnitOptions): string {
  for (const [what, path] of [
    ['node', options.node],
    ['bin/ripple.js', options.script],
    ['data dir', options.dataDir],
  ] as const) {
    if (!isAbsolute(path)) throw new ServiceUnitError(`the ${what} must be an absolute path, not ${path}`)
  }
  if (options.scope === 'system' && !options.runAs) {
    throw new ServiceUnitError('a system unit needs the user it runs as')
  }
  const command = [
    options.node,
    options.script,
    'up',
    '--network',
    options.network,
    '--data-dir',
    options.dataDir,
    ...(options.upArgs ?? []),
  ]
  const system = options.scope === 'system'
  return [
    '# Written by `ripple service install`; `ripple service uninstall` removes it.',
    `# Agent key: ${join(options.dataDir, 'agent.key')}, API token: ${join(options.dataDir, 'api-token')}`,
    '# (read by the daemon from its data dir, never passed on this command line).',
    '[Unit]',
    `Description=Ripple peer (network ${noSpecifiers(options.network)})`,
    // A user manager has no network-online.target to wait for.
    ...(system ? ['Wants=network-online.target', 'After=network-online.target'] : []),
    '',
    '[Service]',
    'Type=simple',
    ...(system ? [`User=${noSpecifiers(options.runAs ?? '')}`] : []),
    environment('PATH', options.path),
    `ExecStart=${command.map(execArgument).join(' ')}`,
    'Restart=on-failure',
    'RestartSec=5s',
    // SIGTERM to the daemon only: it stops its conductor and engines itself, in order; whatever is
    // left when the stop times out is killed.
    'KillMode=mixed',
    'TimeoutStopSec=60s',
    '',
    '[Install]',
    `WantedBy=${system ? 'multi-user.target' : 'default.target'}`,
    '',
  ].join('\n')
}

/** A word of ExecStart=: quoted when it has more than plain path characters; `%` and `$` kept literal. */
export function execArgument(word: string): string {
  // A lone `;` would end the command and start another.
  if (word === ';') return '\\;'
  const literal = noSpecifiers(word).replaceAll('$', '$$$$')
  if (/^[A-Za-z0-9_@%+=:,./$-]+$/.test(literal)) return literal
  return `"${literal.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/** An Environment= line; values there are not $-expanded, only %-specifiers are. */
function environment(name: string, value: string): string {
  const literal = noSpecifiers(value).replaceAll('\\', '\\\\').replaceAll('"', '\\"')
  return `Environment="${name}=${literal}"`
}

/** `text` on one line with its `%` doubled, so systemd reads no specifier into it. */
function noSpecifiers(text: string): string {
  if (/[\n\r\0]/.test(text)) {
    throw new ServiceUnitError(`a unit cannot hold a line break: ${JSON.stringify(text)}`)
  }
  return text.replaceAll('%', '%%')
}
