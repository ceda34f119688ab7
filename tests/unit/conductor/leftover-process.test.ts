/**
 * A conductor or lair left running by a daemon killed outright is stopped by the next start, and only
 * while its command line still names the data dir's file: a process that took the pid since is left alone.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { recordPid, stopLeftover } from '../../../host/conductor/holochain/leftover-process.ts'
import { tempDir } from './fixtures/test-cell.ts'

const children: ChildProcess[] = []

/** `sleep` whose command line reads `argv0` (as a conductor's names its config); `ignoreTerm` traps SIGTERM. */
function sleeper(argv0: string, ignoreTerm = false): ChildProcess {
  const script = `${ignoreTerm ? "trap '' TERM; " : ''}exec -a "$0" sleep 300`
  const child = spawn('bash', ['-c', script, argv0], { stdio: 'ignore' })
  children.push(child)
  return child
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()))

/** Until the child runs `sleep` under its name (bash has exec'd). */
async function started(child: ChildProcess, argv0: string): Promise<void> {
  for (;;) {
    const cmdline = await readFile(`/proc/${child.pid}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.startsWith(`${argv0}\0`)) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('a holochain process left running by an earlier daemon', () => {
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL')
  })

  it('is stopped when its command line names the data dir, and its pid file removed', async () => {
    const dir = await tempDir()
    const config = join(dir, 'holochain', 'conductor-config.yaml')
    const child = sleeper(`holochain --piped -c ${config}`)
    await started(child, `holochain --piped -c ${config}`)
    const pidFile = join(dir, 'conductor.pid')
    await recordPid(pidFile, child.pid!)
    expect(await stopLeftover(pidFile, config)).toBe(true)
    await exited(child)
    expect(child.signalCode).toBe('SIGTERM')
    await expect(readFile(pidFile, 'utf8')).rejects.toThrow(/ENOENT/)
  })

  it('is killed when it does not stop on SIGTERM', async () => {
    const dir = await tempDir()
    const lairRoot = join(dir, 'holochain', 'lair')
    const child = sleeper(`lair-keystore --lair-root ${lairRoot} server --piped`, true)
    await started(child, `lair-keystore --lair-root ${lairRoot} server --piped`)
    const pidFile = join(dir, 'lair.pid')
    await recordPid(pidFile, child.pid!)
    expect(await stopLeftover(pidFile, lairRoot)).toBe(true)
    await exited(child)
    expect(child.signalCode).toBe('SIGKILL')
  }, 15_000)

  it('leaves alone a process that took the pid since, and reads no pid from a missing or garbled file', async () => {
    const dir = await tempDir()
    const other = sleeper('sleep')
    await started(other, 'sleep')
    const pidFile = join(dir, 'conductor.pid')
    await recordPid(pidFile, other.pid!)
    expect(await stopLeftover(pidFile, join(dir, 'holochain', 'conductor-config.yaml'))).toBe(false)
    expect(other.exitCode).toBeNull()
    expect(other.signalCode).toBeNull()
    expect(await stopLeftover(join(dir, 'none.pid'), dir)).toBe(false)
    await writeFile(pidFile, 'not a pid\n')
    expect(await stopLeftover(pidFile, dir)).toBe(false)
  })
})
