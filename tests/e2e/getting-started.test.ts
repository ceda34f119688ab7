/**
 * The getting-started page's "A mesh on one machine" (docs/getting-started.md), run as written there:
 * every `sh` block between its `getting-started-test` markers, line by line through bash in the
 * repository root, as a reader types them. A line that runs `ripple -- up` keeps running (as in its
 * own terminal) and the next line waits for its ready line; every other line must exit 0. The reader's
 * home is a fresh directory (so `~/ripple-demo` and `~/Downloads/my-model.gguf`, a generated tiny
 * model, are this test's own), with the llama.cpp engine where the real home has it.
 * A peer comes up, a second joins by invite, a model is copied in and a request is answered.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engineHome } from '../../host/inference/engine/engine-build.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { REPO_ROOT } from './ripple-process.ts'

const PAGE = readFileSync(join(REPO_ROOT, 'docs', 'getting-started.md'), 'utf8')
const TESTED =
  /<!-- getting-started-test:start -->([\s\S]*?)<!-- getting-started-test:end -->/.exec(PAGE)?.[1] ?? ''
/** The commands of the tested section's `sh` blocks, in order; comment lines are prose. */
const COMMANDS = [...TESTED.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((block) => (block[1] ?? '').split('\n'))
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'))
const isDaemon = (line: string) => /\bripple -- up\b/.test(line)

interface Ran {
  command: string
  code: number
  stdout: string
  stderr: string
}

let home: string
let env: NodeJS.ProcessEnv
const daemons: { command: string; child: ChildProcess; out: () => string }[] = []
const ran: Ran[] = []

/** Starts a `ripple up` line in a process group of its own and resolves at its ready line. */
async function startDaemon(command: string): Promise<void> {
  const child = spawn('bash', ['-c', command], { cwd: REPO_ROOT, env, detached: true })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  daemons.push({ command, child, out: () => out })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 90 s: ${command}\n${out}`)), 90_000)
    child.stdout?.on('data', () => {
      if (/ripple: ready in \d+ ms/.test(out)) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before ready: ${command}\n${out}`))
    })
  })
}

async function runLine(command: string): Promise<void> {
  try {
    const { stdout, stderr } = await promisify(execFile)('bash', ['-c', command], {
      cwd: REPO_ROOT,
      env,
      timeout: 90_000,
    })
    ran.push({ command, code: 0, stdout, stderr })
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    ran.push({
      command,
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    })
  }
}

const ranOf = (pattern: RegExp): Ran => {
  const found = ran.find((r) => pattern.test(r.command))
  if (!found) throw new Error(`no command matching ${pattern} ran: ${ran.map((r) => r.command).join('; ')}`)
  return found
}
const agentOf = (out: string) => /^ripple: agent (\S+)$/m.exec(out)?.[1] ?? 'no agent line'

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'ripple-e2e-getting-started-'))
  await mkdir(join(home, 'Downloads'))
  await writeLlamaModel(join(home, 'Downloads', 'my-model.gguf'), TINY_MODEL)
  const { RIPPLE_HOME: _ignored, ...rest } = process.env
  env = { ...rest, HOME: home, RIPPLE_ENGINE_HOME: engineHome(), npm_config_update_notifier: 'false' }
  for (const command of COMMANDS) {
    if (isDaemon(command)) await startDaemon(command)
    else await runLine(command)
    // A line that failed stops the walk, as it would stop a reader; the tests below say which.
    if (ran.at(-1)?.code) break
  }
}, 240_000)

/** Whether any process of the group led by `pid` (npm, its shell, the daemon) is still alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

afterAll(async () => {
  // Ctrl-C, as the page says: SIGINT to each terminal's process group, SIGKILL if it lingers.
  for (const { child } of daemons) if (child.pid && groupAlive(child.pid)) process.kill(-child.pid, 'SIGINT')
  const deadline = Date.now() + 10_000
  for (const { child } of daemons) {
    while (child.pid && groupAlive(child.pid) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200))
    if (child.pid && groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL')
  }
  await rm(home, { recursive: true, force: true })
}, 30_000)

describe('getting started: a mesh on one machine, as the page writes it', { timeout: 30_000 }, () => {
  it('the page has the walk: two peers up, an invite, a model copied in, peers and infer', () => {
    expect(COMMANDS.filter(isDaemon)).toHaveLength(2)
    for (const step of [/invite create/, /^cp .*\.gguf/, /ripple -- peers/, /ripple -- infer/])
      expect(
        COMMANDS.some((c) => step.test(c)),
        String(step),
      ).toBe(true)
  })

  it('every line ran and exited 0', () => {
    expect(ran.filter((r) => r.code !== 0)).toEqual([])
    expect(ran).toHaveLength(COMMANDS.filter((c) => !isDaemon(c)).length)
  })

  it('the first peer creates the mesh; the second joins it with the invite', async () => {
    const [first, second] = daemons
    expect(first?.out()).toMatch(/ripple: private mesh created; this peer is its admin/)
    expect(second?.out()).toMatch(/ripple: private mesh joined/)
    expect((await stat(join(home, 'ripple-demo', 'invite.json'))).mode & 0o777).toBe(0o600)
  })

  it('the first peer lists both peers', () => {
    const peers = ranOf(/ripple -- peers/).stdout
    expect(peers).toMatch(/\bfirst\b/)
    expect(peers).toMatch(/\bsecond\b/)
  })

  it('the request is answered by the second peer, with the copied model', () => {
    const infer = ranOf(/ripple -- infer/)
    const second = agentOf(daemons[1]?.out() ?? '')
    expect(infer.stdout.length).toBeGreaterThan(0)
    // "16 tokens in N ms (...) on <agent…>, model my-model <hash…>": the runner's key, shortened.
    expect(infer.stderr).toMatch(/ripple: \d+ tokens? in \d+ ms .* on (\S+)…, model my-model /)
    const runner = /on (\S+)…, model my-model/.exec(infer.stderr)?.[1] ?? ''
    expect(second.startsWith(runner)).toBe(true)
    expect(runner.length).toBeGreaterThan(8)
  })
})
