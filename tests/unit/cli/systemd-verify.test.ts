/**
 * The units `ripple service install` writes pass `systemd-analyze verify` (Debian's `systemd`
 * package, installed by scripts/install-system-deps.sh): no unknown key, no bad value, an ExecStart
 * that exists. It runs without systemd as init (as in a container): `--man=no` skips the man pages
 * of Documentation=, and a user unit is checked with XDG_RUNTIME_DIR pointing at a private dir, as a
 * user manager would have. systemd-analyze reports a bad line as a warning with exit status 0, so
 * every word it prints counts as a failure.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServiceUnitOptions, systemdUnit } from '../../../host/cli/systemd-unit.ts'
import { repoPath } from '../../../host/runtime/repo-root.ts'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-unit-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** What systemd-analyze says of `unit`, saved as ripple.service. */
async function verify(unit: string, scope: 'user' | 'system'): Promise<{ code: number; said: string }> {
  const sub = await mkdtemp(join(dir, `${scope}-`))
  const file = join(sub, 'ripple.service')
  await writeFile(file, unit)
  const runtime = join(sub, 'runtime')
  await mkdir(runtime, { mode: 0o700 })
  const args = [...(scope === 'user' ? ['--user'] : []), 'verify', '--man=no', file]
  try {
    const { stdout, stderr } = await promisify(execFile)('systemd-analyze', args, {
      env: { ...process.env, XDG_RUNTIME_DIR: runtime },
    })
    return { code: 0, said: `${stdout}${stderr}`.trim() }
  } catch (err) {
    const failure = err as { code: number; stdout: string; stderr: string }
    return { code: failure.code, said: `${failure.stdout}${failure.stderr}`.trim() }
  }
}

const options: ServiceUnitOptions = {
  scope: 'user',
  node: process.execPath,
  script: repoPath('bin', 'ripple.js'),
  network: 'local',
  dataDir: '/home/ada/.ripple/100% local $dir',
  path: '/usr/local/bin:/usr/bin:/bin',
  upArgs: ['--require-keys', '--models-dir', '/srv/my "models"', '--tag', 'gpu'],
}

describe('systemd-analyze verify', () => {
  it.each([
    ['user', options],
    ['system', { ...options, scope: 'system', runAs: userInfo().username }],
  ] as const)('passes the %s unit', async (scope, unitOptions) => {
    expect(await verify(systemdUnit(unitOptions), scope)).toEqual({ code: 0, said: '' })
  })

  // The check above could fail: the same verify finds a unit whose command does not exist, and a
  // key systemd does not know.
  it('finds a missing ExecStart and an unknown key', async () => {
    const broken = systemdUnit({ ...options, node: '/nonexistent/node' }).replace(
      'Restart=on-failure',
      'Restart=on-failure\nRestartSoon=yes',
    )
    const { said } = await verify(broken, 'system')
    expect(said).toMatch(/\/nonexistent\/node is not executable/)
    expect(said).toMatch(/Unknown key 'RestartSoon'/)
  })
})
