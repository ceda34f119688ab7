/**
 * `ripple service install|uninstall|status`: runs this machine's peer as a systemd service, a user
 * unit (the default) or a system one. The unit's text comes from `systemdUnit`; this writes it,
 * removes it and asks systemctl about it.
 */
import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { homedir, userInfo } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { Command, InvalidArgumentError, Option } from 'commander'
import { loadNetworkConfig } from '../../config/network-config.ts'
import { rippleHome } from '../../daemon/data-dir.ts'
import { repoPath } from '../../runtime/repo-root.ts'
import { systemctl, systemdAbsence, unitPath } from '../systemctl.ts'
import { SERVICE_NAME, type ServiceScope, systemdUnit } from '../systemd-unit.ts'
import { upCommand } from './up-command.ts'

interface ScopeOptions {
  user?: boolean
  system?: boolean
}

interface InstallOptions extends ScopeOptions {
  network: string
  dataDir?: string
  runAs?: string
  dryRun?: boolean
  start: boolean
}

/** Flags the service sets itself, or that make no sense for one that restarts on its own. */
const NOT_FOR_A_SERVICE: Record<string, string> = {
  network: 'give it to `ripple service install --network`',
  dataDir: 'give it to `ripple service install --data-dir`',
  ephemeral: 'a service keeps its data dir',
  joinFile:
    'join once with `ripple up --join-file`, stop it, then install the service (the data dir keeps the mesh)',
}

export function serviceCommand(): Command {
  return new Command('service')
    .description('run this machine’s peer as a systemd service that starts with the machine')
    .addCommand(installCommand())
    .addCommand(
      scoped(new Command('uninstall').description('stop the service and remove its unit')).action(uninstall),
    )
    .addCommand(
      scoped(new Command('status').description('whether the service runs, as systemctl says')).action(status),
    )
}

function scoped(command: Command): Command {
  return command
    .addOption(new Option('--user', 'a user unit, run by your own systemd (the default)').conflicts('system'))
    .addOption(new Option('--system', 'a system unit in /etc/systemd/system (needs root)'))
}

function installCommand(): Command {
  return scoped(new Command('install'))
    .description(
      'write the unit, then enable and (re)start it; `ripple up` flags may follow `--`, e.g. `-- --require-keys --api-host 0.0.0.0`',
    )
    .argument('[up-flags...]', '`ripple up` flags for the service (after `--`)')
    .option('--network <name|path>', 'network name (networks/<name>.json) or path to a network file', 'local')
    .option('--data-dir <dir>', "the peer's data dir (default: ~/.ripple/<network> of the user it runs as)")
    .option('--run-as <user>', 'with --system: the account it runs as (default: $SUDO_USER, else you)')
    .option('--dry-run', 'print the unit and where it would go; write nothing')
    .option('--no-start', 'write and enable the unit without (re)starting it now')
    .action(install)
}

async function install(upFlags: string[], options: InstallOptions): Promise<void> {
  const scope = scopeOf(options)
  if (options.runAs !== undefined && scope === 'user') {
    throw new InvalidArgumentError('--run-as is for a system unit (--system)')
  }
  checkUpFlags(upFlags)
  const network = await loadNetworkConfig(options.network)
  const runAs =
    scope === 'system' ? (options.runAs ?? process.env.SUDO_USER ?? userInfo().username) : undefined
  const dataDir =
    options.dataDir !== undefined
      ? resolve(options.dataDir)
      : runAs === undefined || runAs === userInfo().username
        ? join(rippleHome(), network.name)
        : join(await homeOf(runAs), '.ripple', network.name)
  const unit = systemdUnit({
    scope,
    runAs,
    node: process.execPath,
    script: repoPath('bin', 'ripple.js'),
    // A file's path is kept absolute, so the service finds it from any directory.
    network: /[/\\]|\.json$/.test(options.network) ? resolve(options.network) : options.network,
    dataDir,
    path: [dirname(process.execPath), ...(process.env.PATH ?? '/usr/bin:/bin').split(':')]
      .filter((dir, i, all) => dir !== '' && all.indexOf(dir) === i)
      .join(':'),
    upArgs: upFlags,
  })
  const path = unitPath(scope)
  if (options.dryRun) {
    process.stderr.write(`ripple: would write ${path}\n`)
    process.stdout.write(unit)
    return
  }
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, unit, { mode: 0o644 }).catch((err: NodeJS.ErrnoException) => {
    throw new InvalidArgumentError(
      `cannot write ${path}: ${err.code ?? err.message}${err.code === 'EACCES' ? ' (a system unit needs root: run it with sudo)' : ''}`,
    )
  })
  process.stdout.write(`ripple: wrote ${path} (data dir ${dataDir})\n`)
  const absent = systemdAbsence()
  const ctl = scope === 'user' ? 'systemctl --user' : 'systemctl'
  if (absent) {
    process.stdout.write(
      `ripple: ${absent}; on a machine with systemd, \`${ctl} enable --now ${SERVICE_NAME}\` starts it\n`,
    )
    return
  }
  await mustSucceed(scope, 'daemon-reload')
  await mustSucceed(scope, 'enable', SERVICE_NAME)
  // A restart, not a start: installing again over a running service puts the new unit to work.
  if (options.start) await mustSucceed(scope, 'restart', SERVICE_NAME)
  process.stdout.write(
    `ripple: ${options.start ? 'enabled and (re)started' : 'enabled'}; \`ripple service status${scope === 'system' ? ' --system' : ''}\` ` +
      `says how it runs, \`journalctl ${scope === 'user' ? '--user ' : ''}-u ${SERVICE_NAME} -f\` follows its log\n`,
  )
  if (scope === 'user') {
    process.stdout.write(
      `ripple: to start it at boot, before you log in: \`loginctl enable-linger ${userInfo().username}\`\n`,
    )
  }
}

async function uninstall(options: ScopeOptions): Promise<void> {
  const scope = scopeOf(options)
  const path = unitPath(scope)
  if (!systemdAbsence()) await systemctl(scope, 'disable', '--now', SERVICE_NAME)
  await rm(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return
    throw new InvalidArgumentError(`cannot remove ${path}: ${err.code ?? err.message}`)
  })
  if (!systemdAbsence()) await systemctl(scope, 'daemon-reload')
  process.stdout.write(`ripple: removed ${path}; the data dir (agent key, mesh, models) is kept\n`)
}

async function status(options: ScopeOptions): Promise<void> {
  const scope = scopeOf(options)
  const absent = systemdAbsence()
  if (absent) {
    throw new SystemdUnavailableError(`${absent}; the unit file ${unitPath(scope)} cannot be run here`)
  }
  const shown = await systemctl(scope, 'status', '--no-pager', SERVICE_NAME)
  process.stdout.write(shown.stdout || shown.stderr)
  const active = (await systemctl(scope, 'is-active', SERVICE_NAME)).stdout.trim() || 'unknown'
  process.stdout.write(`ripple: service ${SERVICE_NAME} is ${active}\n`)
  if (active !== 'active') process.exitCode = 3
}

/** Thrown when a service is asked about where systemd does not run. */
class SystemdUnavailableError extends Error {
  static override readonly name = 'SystemdUnavailableError'
  constructor(message: string) {
    super(message)
    this.name = 'SystemdUnavailableError'
  }
}

function scopeOf(options: ScopeOptions): ServiceScope {
  return options.system ? 'system' : 'user'
}

/** The flags after `--` are ones `ripple up` takes, with values it accepts, and none the service sets. */
function checkUpFlags(flags: readonly string[]): void {
  const up = upCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
  let parsed: { operands: string[]; unknown: string[] }
  try {
    parsed = up.parseOptions([...flags])
  } catch (err) {
    throw new InvalidArgumentError(`ripple up ${(err as Error).message.replace(/^error: /, '')}`)
  }
  const stray = [...parsed.operands, ...parsed.unknown]
  if (stray.length > 0) throw new InvalidArgumentError(`\`ripple up\` takes no ${stray.join(' ')}`)
  for (const [key, why] of Object.entries(NOT_FOR_A_SERVICE)) {
    if (up.getOptionValueSource(key) === 'cli') {
      throw new InvalidArgumentError(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${why}`)
    }
  }
}

async function mustSucceed(scope: ServiceScope, ...args: string[]): Promise<void> {
  const result = await systemctl(scope, ...args)
  if (result.code !== 0) {
    const ctl = scope === 'user' ? 'systemctl --user' : 'systemctl'
    throw new SystemdUnavailableError(`\`${ctl} ${args.join(' ')}\` failed: ${result.stderr.trim()}`)
  }
}

/** The home directory of `user`, from the password database. */
async function homeOf(user: string): Promise<string> {
  if (user === userInfo().username) return homedir()
  const { stdout } = await promisify(execFile)('getent', ['passwd', user]).catch(() => ({ stdout: '' }))
  const home = stdout.split(':')[5]
  if (!home) throw new InvalidArgumentError(`no user ${user} on this machine (getent passwd ${user})`)
  return home.trim()
}
