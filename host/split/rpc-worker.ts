/**
 * This peer's share of a split: llama.cpp's `ggml-rpc-server`, bound to 127.0.0.1 (it has no
 * authentication: the mesh carries its stream, to members only), started on the first tunnel that
 * needs it and kept while the daemon runs. Its local tensor cache lives in the data dir, so a head
 * that loads the model again (after a restart of either side) sends hashes, not weights.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import type { Logger } from '../log/logger.ts'
import { freePort } from '../net/free-port.ts'
import { spawnTied } from '../runtime/tied-child.ts'
import { PRIVATE_DIR_MODE } from '../storage/private-files.ts'
import { type CacheUse, defaultCacheCap, KEEP_EVERY_MS, keepCache } from './rpc-cache.ts'

export interface RpcWorkerInit {
  /** The engine's backend folder (the worker's backends are the engine's). */
  dir: () => Promise<{ dir: string; env: Record<string, string> }>
  /** Where the tensor cache lives (`LLAMA_CACHE`). */
  cacheDir: string
  /** The most the cache may hold (`--rpc-cache-size`); default a quarter of the free disk at start. */
  cacheCapBytes?: number
  threads: number
  logger: Logger
}

const READY_POLL_MS = 20
const READY_TIMEOUT_MS = 30_000

export class RpcWorker {
  #child: ChildProcess | null = null
  #port: Promise<number> | null = null
  #keeper: NodeJS.Timeout | undefined
  #cap: Promise<number> | null = null
  /** What the cache held when last kept to its cap (null until the first time). */
  cacheUse: CacheUse | null = null

  readonly #init: RpcWorkerInit

  constructor(init: RpcWorkerInit) {
    this.#init = init
  }

  /** The loopback port of the running rpc server, started when none runs. */
  port(): Promise<number> {
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null && this.#port)
      return this.#port
    this.#port = this.#start().catch((err: unknown) => {
      this.#port = null
      throw err
    })
    return this.#port
  }

  /** What the tensor cache holds against its cap (trimmed to it first). */
  async cache(): Promise<CacheUse> {
    this.#cap ??=
      this.#init.cacheCapBytes !== undefined
        ? Promise.resolve(this.#init.cacheCapBytes)
        : mkdir(this.#init.cacheDir, { recursive: true, mode: PRIVATE_DIR_MODE }).then(() =>
            defaultCacheCap(this.#init.cacheDir),
          )
    this.cacheUse = await keepCache(this.#init.cacheDir, await this.#cap, this.#init.logger)
    return this.cacheUse
  }

  async stop(): Promise<void> {
    clearInterval(this.#keeper)
    const child = this.#child
    this.#child = null
    this.#port = null
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  }

  async #start(): Promise<number> {
    const { dir, env } = await this.#init.dir()
    await mkdir(this.#init.cacheDir, { recursive: true, mode: PRIVATE_DIR_MODE })
    // Held to its cap before the server starts and while it runs (a load adds tensors).
    await this.cache()
    clearInterval(this.#keeper)
    this.#keeper = setInterval(() => {
      this.cache().catch((err: unknown) =>
        this.#init.logger.warn({ err }, 'could not trim the RPC tensor cache'),
      )
    }, KEEP_EVERY_MS)
    this.#keeper.unref()
    const port = await freePort()
    const child = spawnTied(
      join(dir, 'ggml-rpc-server'),
      ['-H', '127.0.0.1', '-p', String(port), '-t', String(this.#init.threads), '-c'],
      {
        cwd: dir,
        env: { ...process.env, ...env, LLAMA_CACHE: this.#init.cacheDir },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    this.#child = child
    let tail = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4096)
    })
    child.once('exit', (code, signal) => {
      if (this.#child === child)
        this.#init.logger.warn(
          { code, signal, stderr: tail.trim().split('\n').at(-1) },
          'the RPC worker (ggml-rpc-server) ended',
        )
    })
    const deadline = Date.now() + READY_TIMEOUT_MS
    // Its log is block-buffered; a connection that closes at once is served and let go.
    while (!(await accepts(port))) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`ggml-rpc-server did not start: ${tail.trim().split('\n').at(-1) ?? 'no output'}`)
      if (Date.now() > deadline) throw new Error('ggml-rpc-server did not start in time')
      await new Promise((r) => setTimeout(r, READY_POLL_MS))
    }
    this.#init.logger.info({ port }, 'RPC worker started (loopback only)')
    return port
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Connects to the worker's port on loopback. */
export function connectWorker(port: number): ReturnType<typeof connect> {
  return connect({ host: '127.0.0.1', port })
}
