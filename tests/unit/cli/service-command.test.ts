/**
 * `ripple service install` as typed: --dry-run prints the unit it would write (and writes nothing),
 * `ripple up` flags after `--` reach ExecStart once `ripple up` accepts them, and flags the service
 * sets itself, or that would break a restart, are refused before anything is written.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { serviceCommand } from '../../../host/cli/commands/service-command.ts'
import { repoPath } from '../../../host/runtime/repo-root.ts'

let home: string

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'ripple-service-'))
})
afterAll(async () => {
  await rm(home, { recursive: true, force: true })
})
afterEach(() => {
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
})

/** What `ripple service <args>` printed on stdout and stderr. */
async function run(...args: string[]): Promise<{ out: string; err: string }> {
  vi.stubEnv('RIPPLE_HOME', join(home, 'ripple-home'))
  vi.stubEnv('XDG_CONFIG_HOME', join(home, 'config'))
  let out = ''
  let err = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk)
    return true
  })
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk)
    return true
  })
  await serviceCommand().exitOverride().parseAsync(args, { from: 'user' })
  return { out, err }
}

describe('ripple service install --dry-run', () => {
  it('prints the user unit with the default data dir and the up flags, and writes nothing', async () => {
    const { out, err } = await run('install', '--dry-run', '--', '--require-keys', '--api-port', '7400')
    const unitFile = join(home, 'config', 'systemd', 'user', 'ripple.service')
    expect(err).toBe(`ripple: would write ${unitFile}\n`)
    expect(out).toContain(
      `ExecStart=${process.execPath} ${repoPath('bin', 'ripple.js')} up --network local ` +
        `--data-dir ${join(home, 'ripple-home', 'local')} --require-keys --api-port 7400\n`,
    )
    expect(existsSync(unitFile)).toBe(false)
  })

  it('keeps a network file by its absolute path and names the data dir after its network', async () => {
    const { out } = await run('install', '--dry-run', '--network', 'networks/local.json', '--data-dir', 'd')
    expect(out).toContain(
      `--network ${repoPath('networks', 'local.json')} --data-dir ${join(process.cwd(), 'd')}`,
    )
  })

  it('writes a system unit that runs as the user named', async () => {
    const { out, err } = await run('install', '--system', '--run-as', 'root', '--dry-run')
    expect(err).toBe('ripple: would write /etc/systemd/system/ripple.service\n')
    expect(out).toMatch(/^User=root$/m)
    expect(out).toMatch(/^WantedBy=multi-user.target$/m)
  })

  it.each([
    [['--', '--data-dir', '/x'], /--data-dir: give it to `ripple service install --data-dir`/],
    [['--', '--network', 'local'], /--network: give it to/],
    [['--', '--ephemeral'], /--ephemeral: a service keeps its data dir/],
    [['--', '--join-file', 'invite.json'], /--join-file: join once with `ripple up --join-file`/],
    [['--', '--bogus'], /`ripple up` takes no --bogus/],
    [['--', 'stray'], /`ripple up` takes no stray/],
    [['--', '--api-port', 'abc'], /ripple up option '--api-port <port>' argument 'abc' is invalid/],
    [['--run-as', 'root'], /--run-as is for a system unit/],
    [['--network', 'no-such-network'], /network "no-such-network" not found/],
  ])('refuses %j', async (args, message) => {
    await expect(run('install', '--dry-run', ...args)).rejects.toThrow(message)
  })
})
