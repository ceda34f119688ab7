/**
 * Where the unit file goes and how `systemctl` is reached, for a user or a system unit; and whether
 * systemd runs here at all (in most containers it does not).
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { SERVICE_NAME, type ServiceScope } from './systemd-unit.ts'

/** `~/.config/systemd/user/ripple.service` (or under $XDG_CONFIG_HOME), or `/etc/systemd/system/…`. */
export function unitPath(
  scope: ServiceScope,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  const file = `${SERVICE_NAME}.service`
  if (scope === 'system') return join('/etc/systemd/system', file)
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'systemd', 'user', file)
}

/** The arguments of `systemctl` for `scope`: `--user` first for a user unit. */
export function systemctlArgs(scope: ServiceScope, ...args: string[]): string[] {
  return scope === 'user' ? ['--user', ...args] : args
}

/** systemd's own test (sd_booted): it runs as this machine's init. */
export function systemdRunning(): boolean {
  return existsSync('/run/systemd/system')
}

export interface SystemctlResult {
  /** The exit status; null when systemctl could not be started (not installed). */
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `systemctl` and returns what it said, whatever its exit status. */
export function systemctl(scope: ServiceScope, ...args: string[]): Promise<SystemctlResult> {
  return new Promise((resolve) => {
    execFile('systemctl', systemctlArgs(scope, ...args), (err, stdout, stderr) => {
      const failure = err as (NodeJS.ErrnoException & { code?: number | string }) | null
      const code = failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null
      resolve({ code, stdout, stderr: code === null && failure ? failure.message : stderr })
    })
  })
}

/** Why no unit can be started or asked about here, or null when systemd runs. */
export function systemdAbsence(): string | null {
  return systemdRunning()
    ? null
    : 'systemd is not running on this machine (no /run/systemd/system; most containers have no init system)'
}
