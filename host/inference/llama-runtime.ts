/**
 * The one llama.cpp runtime of this process (node-llama-cpp's `Llama`), started on first use.
 *
 * It only ever uses a prebuilt binary (`build: 'never'`): building llama.cpp from source takes many
 * minutes and needs a toolchain, and a peer must not do that behind a person's back. GPU support is
 * picked automatically (CUDA, Vulkan, then CPU, whichever prebuilt binary passes its self-test).
 * Threads default to the cores this process may use: node-llama-cpp's default of 4 is ~30x slower
 * on a 2-core machine.
 */
import { availableParallelism } from 'node:os'
import type { Llama, LlamaLogLevel } from 'node-llama-cpp'
import type { Logger } from '../log/logger.ts'

export interface LlamaRuntimeInit {
  /** Default: os.availableParallelism(). */
  threads?: number
  logger: Logger
}

/** Thrown when no prebuilt llama.cpp binary runs on this machine (ripple never compiles one). */
export class LlamaUnavailableError extends Error {
  static override readonly name = 'LlamaUnavailableError'
  constructor(cause: unknown) {
    super(
      `llama.cpp cannot run on this machine: no prebuilt node-llama-cpp binary for ${process.platform}-${process.arch} ` +
        `passed its self-test (ripple never builds llama.cpp from source): ${(cause as Error).message}`,
      { cause },
    )
    this.name = 'LlamaUnavailableError'
  }
}

// llama.cpp's own error lines say why a model failed to load; node-llama-cpp only says that it did.
const KEPT_ERROR_LINES = 8

export class LlamaRuntime {
  readonly threads: number
  private llama: Promise<Llama> | null = null
  private readonly recentErrors: string[] = []

  constructor(private readonly init: LlamaRuntimeInit) {
    this.threads = init.threads ?? availableParallelism()
  }

  /** The runtime, started on the first call (~0.5 s: the binary's self-test runs in a child process). */
  get(): Promise<Llama> {
    this.llama ??= this.start().catch((err: unknown) => {
      // A later call may try again (e.g. after the person fixed node_modules).
      this.llama = null
      throw err
    })
    return this.llama
  }

  /** Takes llama.cpp's error lines logged since the last call (oldest first). */
  takeErrors(): string[] {
    return this.recentErrors.splice(0)
  }

  async dispose(): Promise<void> {
    const llama = this.llama
    this.llama = null
    if (llama) await (await llama.catch(() => null))?.dispose()
  }

  private async start(): Promise<Llama> {
    const { getLlama, LlamaLogLevel, NoBinaryFoundError } = await import('node-llama-cpp')
    const log = this.init.logger
    const startedAt = Date.now()
    try {
      const llama = await withoutEvalExecArgv(() =>
        getLlama({
          build: 'never',
          gpu: 'auto',
          maxThreads: this.threads,
          progressLogs: false,
          logLevel: LlamaLogLevel.warn,
          logger: (level, message) => this.onLog(level, message),
        }),
      )
      log.info(
        { gpu: llama.gpu, build: llama.buildType, threads: this.threads, ms: Date.now() - startedAt },
        'llama.cpp runtime started',
      )
      return llama
    } catch (err) {
      if (err instanceof NoBinaryFoundError) throw new LlamaUnavailableError(err)
      throw err
    }
  }

  private onLog(level: LlamaLogLevel, message: string): void {
    const text = message.trim()
    if (text === '') return
    if (level === 'error' || level === 'fatal') {
      this.recentErrors.push(text)
      if (this.recentErrors.length > KEPT_ERROR_LINES) this.recentErrors.shift()
      this.init.logger.warn({ llama: text }, 'llama.cpp error')
    } else this.init.logger.debug({ llama: text, level }, 'llama.cpp')
  }
}

// Flags whose next argument is code for node to run instead of a script, and `--input-type`, which
// node refuses next to a script file.
const EVAL_FLAGS = new Set(['-e', '--eval', '-p', '--print', '--input-type'])

/**
 * node-llama-cpp self-tests a prebuilt binary in a child forked from its own file, and fork() hands
 * the child this process's execArgv. Under `node -e <code>` that execArgv carries the code, so the
 * child runs it instead of the test, never reports back, and the (working) binary is refused; with
 * node-llama-cpp's default `build: 'auto'` it then clones and compiles llama.cpp. The eval flags are
 * left out while `run` goes.
 */
async function withoutEvalExecArgv<T>(run: () => Promise<T>): Promise<T> {
  const original = process.execArgv
  const kept: string[] = []
  for (let i = 0; i < original.length; i++) {
    const arg = original[i] ?? ''
    if (EVAL_FLAGS.has(arg)) i++
    else if (!/^--(eval|print|input-type)=/.test(arg)) kept.push(arg)
  }
  if (kept.length === original.length) return run()
  process.execArgv = kept
  try {
    return await run()
  } finally {
    process.execArgv = original
  }
}
