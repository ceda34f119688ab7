/**
 * Spawns a helper server (llama-server, ggml-rpc-server) that dies with this process. A daemon that
 * is killed (SIGKILL, a crash) runs no exit handlers, and its children would live on holding the
 * model's memory and port; on Linux, util-linux's `setpriv --pdeathsig KILL` asks the kernel to kill
 * the child when its parent goes, then execs the server itself (same pid, same stdio).
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

const SETPRIV = '/usr/bin/setpriv'
const tied = process.platform === 'linux' && existsSync(SETPRIV)

export function spawnTied(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  return tied
    ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args], options)
    : spawn(command, [...args], options)
}
