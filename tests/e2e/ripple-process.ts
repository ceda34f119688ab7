/** Runs the `ripple` CLI (bin/ripple.js) as child processes, the way a person would. */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const RIPPLE_BIN = join(REPO_ROOT, 'bin', 'ripple.js')

export interface RunningRipple {
  child: ChildProcess
  /** Everything printed on stdout so far. */
  stdout(): string
  stderr(): string
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>
}

/** Tests never send a packet off loopback: libp2p listens on 127.0.0.1 and mDNS is pinned to it. */
export const LOOPBACK_FLAGS = ['--listen', '/ip4/127.0.0.1/tcp/0', '--mdns-interface', '127.0.0.1'] as const

export interface StartOptions {
  /** Runs it under this umask (through sh, which sets it before exec'ing node). */
  umask?: number
  /**
   * Runs it inside this network namespace (a test's NAT lab), where it is not pinned to loopback:
   * the namespace is sealed, and the caller names its listen addresses.
   */
  netns?: string
  /** `up` (default) or `relay`. */
  command?: 'up' | 'relay'
  /** Runs the checkout at this root (another release's, tests/fixtures/previous-release.ts) rather than this one. */
  root?: string
}

/**
 * Spawns `ripple up ...` (pinned to loopback unless in a lab namespace) and resolves once it prints
 * its ready line.
 */
export async function startRipple(
  args: readonly string[],
  timeoutMs = 60_000,
  options: StartOptions = {},
): Promise<RunningRipple & { readyMs: number }> {
  const pinned = options.netns === undefined ? LOOPBACK_FLAGS : []
  const root = options.root ?? REPO_ROOT
  const argv = [join(root, 'bin', 'ripple.js'), options.command ?? 'up', ...pinned, ...args]
  const [command, commandArgs] =
    options.netns !== undefined
      ? ['ip', ['netns', 'exec', options.netns, process.execPath, ...argv]]
      : options.umask === undefined
        ? [process.execPath, argv]
        : [
            '/bin/sh',
            ['-c', `umask ${options.umask.toString(8)} && exec "$0" "$@"`, process.execPath, ...argv],
          ]
  const child = spawn(command, commandArgs, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const readyMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`ripple up not ready after ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`))
    }, timeoutMs)
    const check = () => {
      const match = /ripple: ready in (\d+) ms/.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    }
    child.stdout?.on('data', check)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`ripple up exited with ${code} before ready\nstdout:\n${out}\nstderr:\n${err}`))
    })
  })
  return { child, stdout: () => out, stderr: () => err, exited, readyMs }
}

/**
 * Runs a short `ripple` command (inside `options.netns` when given; of the checkout at `options.root`
 * when given) and returns its output and exit code (never throws on failure).
 */
export async function runRipple(
  args: readonly string[],
  options: { netns?: string; timeoutMs?: number; root?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = options.root ?? REPO_ROOT
  const argv = [process.execPath, join(root, 'bin', 'ripple.js'), ...args]
  const [command, commandArgs] =
    options.netns === undefined
      ? [argv[0]!, argv.slice(1)]
      : ['ip', ['netns', 'exec', options.netns, ...argv]]
  try {
    const { stdout, stderr } = await promisify(execFile)(command, commandArgs, {
      cwd: root,
      timeout: options.timeoutMs ?? 30_000,
      // A task's output printed whole may be above execFile's 1 MiB default (a payload sealed on IPFS).
      maxBuffer: 64 * 1024 * 1024,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/**
 * Writes a network file like `local` but with a fresh seed into `dir`, so daemons of other test files
 * running at the same time (all on loopback mDNS) can never join; answers its path for `--network`.
 * It is open (no key, no admin): daemons started on it find each other with no invite, as tests that
 * start several `ripple up` need. A network file is taken as it is; only plain `local` becomes private.
 */
export async function isolatedNetwork(
  dir: string,
  name: string,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const local = JSON.parse(await readFile(join(REPO_ROOT, 'networks', 'local.json'), 'utf8')) as Record<
    string,
    unknown
  >
  const path = join(dir, `${name}.network.json`)
  await writeFile(
    path,
    JSON.stringify({
      ...local,
      name,
      seed: `${name}-${randomBytes(8).toString('hex')}`,
      // A request's record signed within a second, as the tests read it (a network file's default: a minute).
      record: { served_slot_ms: 1_000 },
      ...overrides,
    }),
  )
  return path
}

export type NamedRipple = RunningRipple & { dataDir: string; agent: string }

/**
 * Two `ripple up` processes on a network of their own under `root`: the asker has no models, the
 * runner holds the tiny generated model, so every model task the asker submits runs on the runner.
 */
export async function startAskerAndRunner(
  root: string,
  network: string,
  overrides: Record<string, unknown> = {},
  readyTimeoutMs = 90_000,
): Promise<[NamedRipple, NamedRipple]> {
  const networkFile = await isolatedNetwork(root, network, overrides)
  const start = async (name: string, models: string): Promise<NamedRipple> => {
    const dataDir = join(root, name)
    await mkdir(models, { recursive: true })
    const flags = ['--network', networkFile, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
    const daemon = await startRipple(
      [...flags, '--name', name, '--threads', '1', '--log-level', 'warn'],
      readyTimeoutMs,
    )
    return { ...daemon, dataDir, agent: /^ripple: agent (\S+)$/m.exec(daemon.stdout())?.[1] ?? '' }
  }
  await mkdir(join(root, 'runner-models'), { recursive: true })
  await writeLlamaModel(join(root, 'runner-models', 'tiny.gguf'), TINY_MODEL)
  return Promise.all([
    start('asker', join(root, 'asker-models')),
    start('runner', join(root, 'runner-models')),
  ])
}

/** Polls until `check` passes; the last failure is rethrown at the deadline. */
export async function eventually(check: () => Promise<void>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
}
