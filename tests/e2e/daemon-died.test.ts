/**
 * The CLI against a daemon that dies while it answers: a real `ripple up` is SIGKILLed while
 * `ripple task submit --wait` follows a task's event stream, and a later command finds nobody
 * listening. Each answers with one line saying what happened and what to do, never a stack.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, RIPPLE_BIN, type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

let dataDir: string
let daemon: RunningRipple

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ripple-e2e-died-'))
  daemon = await startRipple(['--data-dir', dataDir, '--api-port', '0', '--log-level', 'warn'])
}, 90_000)

afterAll(async () => {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
})

const STACK_LINE = /^\s+at /m

describe('the CLI when the daemon dies mid-request', { timeout: 60_000 }, () => {
  it('a task --wait whose daemon is killed mid-stream ends with one line', async () => {
    // An echo that takes a minute: the CLI sits on the task's event stream meanwhile.
    const input = '{"message":"hi","delay_ms":60000}'
    const args = ['task', 'submit', 'echo', '--input', input, '--wait', '--data-dir', dataDir]
    const cli = spawn(process.execPath, [RIPPLE_BIN, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    let stdout = ''
    cli.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      cli.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
        if (/ripple: submitted \S+/.test(stderr)) resolve()
      })
      void exited.then(() => reject(new Error(`the CLI exited before following the task:\n${stderr}`)))
    })
    // The first event printed: the stream is open and has delivered, so the kill lands mid-stream.
    await new Promise<void>((resolve) => {
      const check = () => (/^ripple: \[\d+s\] /m.test(stderr) ? resolve() : setTimeout(check, 20))
      check()
    })
    daemon.child.kill('SIGKILL')
    await daemon.exited
    expect(await exited).toBe(1)
    const lines = stderr.trimEnd().split('\n')
    const last = lines.at(-1) ?? ''
    expect(last).toMatch(
      /^ripple: the daemon at http:\/\/127\.0\.0\.1:\d+ went away in the middle of the request/,
    )
    expect(last).toMatch(/start it again with `ripple up`/)
    expect(stderr).not.toMatch(STACK_LINE)
    expect(stdout).toBe('')
  })

  it('a command to a daemon that is gone says nobody answers, in one line', async () => {
    const { api_url: apiUrl } = JSON.parse(await readFile(join(dataDir, 'daemon.json'), 'utf8')) as {
      api_url: string
    }
    // The killed daemon left daemon.json behind; --api-url skips the pid check and goes to the port.
    const res = await runRipple(['status', '--api-url', apiUrl, '--token', 'x'])
    expect(res.code).toBe(1)
    expect(res.stderr).toBe(
      `ripple: no daemon answers at ${apiUrl} (ECONNREFUSED); start one with \`ripple up\`\n`,
    )
  })
})
