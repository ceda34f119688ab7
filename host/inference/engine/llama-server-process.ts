/**
 * One `llama-server` child process: llama.cpp's own server, bound to 127.0.0.1 on a port of its own
 * and guarded by a key only the daemon knows (a 0600 file, never an argument: other users can read
 * a process's arguments; removed once the server has read it, and a killed daemon's are removed by
 * the next start: see removeStaleKeyDirs). Started from a backend folder (see backend-dir.ts), whose libraries it
 * loads as dynamic backends. An abort inside llama.cpp ends this process, never the daemon; its last
 * words (the GGML_ASSERT line) say why.
 */
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { LongOperationOptions } from '../../interface/progress.ts'
import { freePort } from '../../net/free-port.ts'
import { processAlive } from '../../runtime/process-alive.ts'
import { spawnTied } from '../../runtime/tied-child.ts'
import { loadPercent, residentBytes } from './load-progress.ts'

// Enough of the child's stderr to hold llama.cpp's last words (the GGML_ASSERT line and a backtrace).
const STDERR_TAIL_BYTES = 16_384
const HEALTH_POLL_MS = 25
const STOP_GRACE_MS = 5_000
/** Key dirs are `<tmp>/ripple-engine-key-<daemon pid>-XXXXXX`: the pid tells a later start whose they are. */
const KEY_DIR_PREFIX = 'ripple-engine-key-'
/** Parked generations' slot files (engine-model.ts), named the same way. */
export const SLOTS_DIR_PREFIX = 'ripple-engine-slots-'
const KEY_DIR_NAME = /^ripple-engine-(?:key|slots)-(\d+)-/

/**
 * Progress is the share of the model loaded (`load`, in percent, from the process's resident memory
 * against `modelBytes`). Aborted before it is ready, the process is ended and the start rejects with
 * the signal's reason.
 */
export interface LlamaServerOptions extends LongOperationOptions {
  /** The backend folder: llama-server and the libraries it loads. */
  dir: string
  /** Arguments beyond host, port and key (model, context, slots, device...). */
  args: string[]
  /** Extra environment (library paths of a GPU runtime). */
  env?: Record<string, string>
  /** The process ended without being asked to, after it was ready. */
  onExit?: (exit: ServerExit) => void
  /** Give up on a load that takes longer (ms); default none. */
  readyTimeoutMs?: number
  /** The model file's size: what progress counts the load against. */
  modelBytes?: number
}

/** How a server process ended without being asked to. */
export interface ServerExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** llama.cpp's own words when it left any (the GGML_ASSERT line), else how the process ended. */
  reason: string
}

/** Thrown when the server ends (or says it failed) before it is ready. */
export class ServerStartError extends Error {
  static override readonly name = 'ServerStartError'
  constructor(readonly exit: ServerExit) {
    super(exit.reason)
    this.name = 'ServerStartError'
  }
}

export class LlamaServerProcess {
  readonly url: string
  readonly #key: string
  readonly #child: ChildProcess
  readonly #exited: Promise<void>
  readonly #keyDir: string
  readonly #ending: { exit: ServerExit | null; stopping: boolean }

  private constructor(
    url: string,
    key: string,
    child: ChildProcess,
    exited: Promise<void>,
    keyDir: string,
    ending: { exit: ServerExit | null; stopping: boolean },
  ) {
    this.url = url
    this.#key = key
    this.#child = child
    this.#exited = exited
    this.#keyDir = keyDir
    this.#ending = ending
  }

  /** How the process ended, once it has (with llama.cpp's last words). */
  get exit(): ServerExit | null {
    return this.#ending.exit
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  /** Headers every request to the server carries. */
  get headers(): Record<string, string> {
    return { authorization: `Bearer ${this.#key}`, 'content-type': 'application/json' }
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null
  }

  /** Starts the server and resolves once it answers /health (the model loaded and warmed up). */
  static async start(options: LlamaServerOptions): Promise<LlamaServerProcess> {
    options.signal?.throwIfAborted()
    const key = randomBytes(24).toString('base64url')
    const keyDir = await mkdtemp(join(tmpdir(), `${KEY_DIR_PREFIX}${process.pid}-`))
    const keyFile = join(keyDir, 'api-key')
    await writeFile(keyFile, `${key}\n`, { mode: 0o600 })
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const child = spawnTied(
      join(options.dir, 'llama-server'),
      [
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--api-key-file',
        keyFile,
        '--no-webui',
        ...options.args,
      ],
      // The backend folder is the working directory too: ggml looks for backends there.
      { cwd: options.dir, env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let tail = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-STDERR_TAIL_BYTES)
    })
    let ready = false
    const ending: { exit: ServerExit | null; stopping: boolean } = { exit: null, stopping: false }
    const exited = new Promise<void>((done) => {
      const finish = (exit: ServerExit) => {
        if (ending.exit) return
        ending.exit = exit
        done()
        if (ready && !ending.stopping) options.onExit?.(exit)
      }
      child.once('exit', (code, signal) => finish({ code, signal, reason: exitReason(code, signal, tail) }))
      // A spawn failure (a missing binary) may end in 'error' alone.
      child.once('error', (err) =>
        finish({ code: null, signal: null, reason: `llama-server did not start: ${err.message}` }),
      )
    })
    const server = new LlamaServerProcess(url, key, child, exited, keyDir, ending)
    const deadline = options.readyTimeoutMs ? Date.now() + options.readyTimeoutMs : Number.POSITIVE_INFINITY
    let shown = -1
    const progress = async (onProgress: NonNullable<LlamaServerOptions['onProgress']>) => {
      const resident = child.pid ? await residentBytes(child.pid) : null
      const done = loadPercent(resident ?? 0, options.modelBytes ?? 0)
      if (done <= shown) return
      shown = done
      onProgress({ stage: 'load', done, total: 100, unit: 'percent' })
    }
    try {
      for (;;) {
        if (ending.exit) throw new ServerStartError(ending.exit)
        options.signal?.throwIfAborted()
        if (Date.now() > deadline)
          throw new Error(`llama-server did not load within ${options.readyTimeoutMs} ms`)
        if (options.onProgress) await progress(options.onProgress)
        if (await healthy(url, options.signal)) break
        // Cut short by an abort, which the loop then throws.
        await sleep(HEALTH_POLL_MS, undefined, { signal: options.signal }).catch(() => {})
      }
      // An abort that came while /health answered still wins: the caller gave up on this process.
      options.signal?.throwIfAborted()
    } catch (err) {
      await server.stop()
      throw err
    }
    ready = true
    // llama-server read the key file while parsing its arguments: nothing is left for a kill to leak.
    await rm(keyDir, { recursive: true, force: true })
    return server
  }

  /** Ends the process (TERM, then KILL after a grace) and removes its key. */
  async stop(): Promise<void> {
    this.#ending.stopping = true
    if (this.running) {
      this.#child.kill('SIGTERM')
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS)
      await this.#exited
      clearTimeout(timer)
    }
    await rm(this.#keyDir, { recursive: true, force: true })
  }

  /** Resolves when the process has ended, however it did. */
  exited(): Promise<void> {
    return this.#exited
  }
}

/**
 * Removes the key dirs (and parked slots' dirs) of engines whose daemon is gone (killed before its servers were ready, or
 * before it could stop them; a live daemon's are kept), owned by this user. Returns their paths.
 */
export async function removeStaleKeyDirs(root = tmpdir()): Promise<string[]> {
  const removed: string[] = []
  for (const name of await readdir(root)) {
    const owner = KEY_DIR_NAME.exec(name)?.[1]
    if (owner === undefined || processAlive(Number(owner))) continue
    const path = join(root, name)
    const info = await lstat(path).catch(() => null)
    if (!info?.isDirectory() || info.uid !== process.getuid?.()) continue
    await rm(path, { recursive: true, force: true })
    removed.push(path)
  }
  return removed
}

/** Whether the server answers /health; false at once when `signal` aborts (the loop then throws). */
async function healthy(url: string, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    const timeout = AbortSignal.timeout(2_000)
    const response = await fetch(`${url}/health`, {
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    })
    await response.arrayBuffer()
    return response.ok
  } catch {
    return false
  }
}

/** llama.cpp's GGML_ASSERT/abort line (or its first error line), else how the process ended. */
export function exitReason(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const how = signal ? `llama-server was killed by ${signal}` : `llama-server exited with code ${code}`
  const lines = stderr
    .split('\n')
    // Progress dots, and llama.cpp's "0.00.025.049 E " timestamp and level.
    .map((line) =>
      line
        .trim()
        .replace(/^[.]+/, '')
        .replace(/^\d+\.\d+\.\d+\.\d+ [A-Z] /, ''),
    )
    .filter((line) => line !== '')
  const words =
    lines.find((line) => /GGML_ASSERT|GGML_ABORT|CUDA error/.test(line)) ??
    lines.find((line) => /error loading model|failed to load|unable to load/i.test(line)) ??
    lines.find((line) => /error/i.test(line)) ??
    lines.at(-1)
  return words ? `${how}: ${words.replace(/\s+/g, ' ').slice(0, 300)}` : how
}
