/**
 * The conductor and lair a daemon starts outlive it when it is killed outright (SIGKILL, a crash): their
 * pids are kept in the data dir, and the next start stops what still runs there first (a lair left
 * running holds the keystore, a conductor its databases). A pid is only signalled while its command
 * line still names this data dir's file (`marker`), never another process that took the number since.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'

const STOP_WAIT_MS = 5_000

/** Keeps `pid` in `pidFile` (0600) for the next start. */
export async function recordPid(pidFile: string, pid: number): Promise<void> {
  await writeFile(pidFile, `${pid}\n`, { mode: 0o600 })
}

/** Stops the process `pidFile` names if it still runs with `marker` in its command line; true when one was. */
export async function stopLeftover(pidFile: string, marker: string): Promise<boolean> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10)
  await rm(pidFile, { force: true })
  if (!Number.isSafeInteger(pid) || pid <= 1 || !(await runsWith(pid, marker))) return false
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + STOP_WAIT_MS
  while (Date.now() < deadline) {
    if (!(await runsWith(pid, marker))) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  process.kill(pid, 'SIGKILL')
  return true
}

async function runsWith(pid: number, marker: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
  // A zombie (exited, not yet reaped by its parent) has an empty command line: it runs nothing.
  return cmdline.split('\0').some((arg) => arg.includes(marker))
}
