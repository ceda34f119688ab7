/**
 * The unit `ripple service install` writes, as text: what each scope adds, how the command line is
 * quoted for systemd, and that no secret and no relative path gets in.
 */
import { describe, expect, it } from 'vitest'
import { systemctlArgs, unitPath } from '../../../host/cli/systemctl.ts'
import {
  execArgument,
  ServiceUnitError,
  type ServiceUnitOptions,
  systemdUnit,
} from '../../../host/cli/systemd-unit.ts'

const base: ServiceUnitOptions = {
  scope: 'user',
  node: '/usr/bin/node',
  script: '/opt/ripple/bin/ripple.js',
  network: 'local',
  dataDir: '/home/ada/.ripple/local',
  path: '/usr/bin:/bin',
}

const lines = (unit: string) => unit.split('\n')

describe('systemdUnit', () => {
  it.each([
    [
      'user',
      base,
      ['WantedBy=default.target'],
      ['User=', 'network-online.target', 'WantedBy=multi-user.target'],
    ],
    [
      'system',
      { ...base, scope: 'system', runAs: 'ripple' },
      [
        'User=ripple',
        'Wants=network-online.target',
        'After=network-online.target',
        'WantedBy=multi-user.target',
      ],
      ['WantedBy=default.target'],
    ],
  ] as const)('a %s unit has its own lines', (_scope, options, present, absent) => {
    const unit = systemdUnit(options)
    for (const line of present) expect(lines(unit)).toContain(line)
    for (const text of absent) expect(unit).not.toContain(text)
  })

  it('runs node on bin/ripple.js up with the network and the data dir, restarting on failure', () => {
    const unit = lines(systemdUnit({ ...base, upArgs: ['--require-keys', '--tag', 'gpu'] }))
    expect(unit).toContain(
      'ExecStart=/usr/bin/node /opt/ripple/bin/ripple.js up --network local --data-dir /home/ada/.ripple/local --require-keys --tag gpu',
    )
    expect(unit).toContain('Restart=on-failure')
    expect(unit).toContain('KillMode=mixed')
    expect(unit).toContain('Environment="PATH=/usr/bin:/bin"')
  })

  it('names the key files by their path in the data dir, never their contents or a token flag', () => {
    const unit = systemdUnit(base)
    expect(unit).toContain('/home/ada/.ripple/local/agent.key')
    expect(unit).toContain('/home/ada/.ripple/local/api-token')
    expect(unit).not.toMatch(/--token|RIPPLE_INVITE|--join-file/)
  })

  it.each([
    ['a relative node', { node: 'node' }, /node must be an absolute path/],
    ['a relative script', { script: 'bin/ripple.js' }, /bin\/ripple.js must be an absolute path/],
    ['a relative data dir', { dataDir: '.ripple' }, /data dir must be an absolute path/],
    ['a system unit with no user', { scope: 'system' }, /needs the user it runs as/],
    ['a line break in a flag', { upArgs: ['--name', 'a\nExecStartPre=/bin/evil'] }, /line break/],
    ['a line break in the PATH', { path: '/bin\n[Service]' }, /line break/],
  ] as const)('refuses %s', (_what, change, message) => {
    expect(() => systemdUnit({ ...base, ...change } as ServiceUnitOptions)).toThrow(ServiceUnitError)
    expect(() => systemdUnit({ ...base, ...change } as ServiceUnitOptions)).toThrow(message)
  })

  it('doubles a % in the description and the user, so no specifier is read into them', () => {
    const unit = lines(systemdUnit({ ...base, scope: 'system', runAs: 'a%b', network: '/n/100%.json' }))
    expect(unit).toContain('Description=Ripple peer (network /n/100%%.json)')
    expect(unit).toContain('User=a%%b')
  })
})

describe('execArgument', () => {
  it.each([
    ['/usr/bin/node', '/usr/bin/node'],
    ['--api-host', '--api-host'],
    ['0.0.0.0', '0.0.0.0'],
    ['/srv/my models', '"/srv/my models"'],
    ['50%', '50%%'],
    ['$HOME', '$$HOME'],
    ['a"b', '"a\\"b"'],
    ['a\\b c', '"a\\\\b c"'],
    ["it's", `"it's"`],
    ['', '""'],
    [';', '\\;'],
  ])('%j is written %s', (word, written) => {
    expect(execArgument(word)).toBe(written)
  })
})

describe('unitPath and systemctlArgs', () => {
  it.each([
    ['user', {}, '/home/ada/.config/systemd/user/ripple.service'],
    ['user', { XDG_CONFIG_HOME: '/cfg' }, '/cfg/systemd/user/ripple.service'],
    ['system', { XDG_CONFIG_HOME: '/cfg' }, '/etc/systemd/system/ripple.service'],
  ] as const)('a %s unit with %j goes to %s', (scope, env, path) => {
    expect(unitPath(scope, env, '/home/ada')).toBe(path)
  })

  it('asks the user manager with --user, the system one without', () => {
    expect(systemctlArgs('user', 'status', 'ripple')).toEqual(['--user', 'status', 'ripple'])
    expect(systemctlArgs('system', 'status', 'ripple')).toEqual(['status', 'ripple'])
  })
})
