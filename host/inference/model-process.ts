/**
 * One loaded model, held by a child process of the daemon (`model-process-main.ts`): llama.cpp
 * aborts its whole process on some files that pass every check made before loading (e.g.
 * GGML_ASSERT when a head count is not a multiple of the KV head count), and running it in a child
 * turns that abort into a failed request instead of a dead daemon (as LocalAI and Ollama isolate
 * their backends). Requests go to the child whole and text streams back as it is produced.
 *
 * When the child dies on its own, every request on it fails with the error `onCrash` makes of the
 * exit (the model manager quarantines the file there) and the model counts as unloaded.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Logger, LogLevel } from '../log/logger.ts'
import { repoPath } from '../runtime/repo-root.ts'
import type { EmbedResult } from './embed.ts'
import type { GenerateOptions, GenerateRequest, GenerateResult } from './generate.ts'
import type { GgufModel } from './gguf-scan.ts'
import { ModelProcessError } from './model-errors.ts'
import type { FromModelProcess, ToModelProcess, WireError } from './model-process-protocol.ts'

// From the sources a model process boots through tsx; from the bundle (dist/, see scripts/build-host.sh)
// it runs the bundled entry.
const BOOT = import.meta.url.endsWith('.ts')
  ? fileURLToPath(new URL('./model-process-boot.mjs', import.meta.url))
  : repoPath('dist', 'model-process.mjs')
// Enough of the child's stderr to hold llama.cpp's last words (the GGML_ASSERT line and a backtrace).
const STDERR_TAIL_BYTES = 8192
// A child asked to unload gets this long to free its model before it is killed.
const UNLOAD_GRACE_MS = 10_000

/** How a model process ended without being asked to. */
export interface ProcessExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** llama.cpp's own words when it left any (the GGML_ASSERT line), else how the process ended. */
  reason: string
}

export interface ModelProcessInit {
  info: GgufModel
  /** Tokens per context; capped by the model's training context in the child. */
  contextSize: number
  threads: number
  /** The child's log level (its pino lines go to the daemon's stderr). */
  logLevel: LogLevel
  logger: Logger
  onProgress?: (fraction: number) => void
  /** Makes the error that the requests of a process that died on its own fail with. */
  onCrash: (exit: ProcessExit) => Error
}

/** What the exit handler and the instance share. */
interface Lifecycle {
  /** The exit to come was asked for (unload) or announced (a failed load): not a crash. */
  exitExpected: boolean
  unloaded: boolean
  /** The error requests fail with once the process died on its own. */
  crash: Error | null
}

interface Pending {
  resolve: (message: FromModelProcess) => void
  reject: (err: Error) => void
  onText?: (text: string) => void
}

export class ModelProcess {
  readonly info: GgufModel
  /** Wall time from spawn to loaded. */
  readonly loadMs: number
  readonly contextSize: number
  readonly threads: number
  readonly #child: ChildProcess
  readonly #pending: Map<number, Pending>
  readonly #exited: Promise<void>
  readonly #life: Lifecycle
  #nextId = 1

  private constructor(
    init: ModelProcessInit,
    loaded: { loadMs: number; contextSize: number; threads: number },
    child: ChildProcess,
    pending: Map<number, Pending>,
    exited: Promise<void>,
    life: Lifecycle,
  ) {
    this.info = init.info
    this.loadMs = loaded.loadMs
    this.contextSize = loaded.contextSize
    this.threads = loaded.threads
    this.#child = child
    this.#pending = pending
    this.#exited = exited
    this.#life = life
  }

  /** Forks the process and loads the model in it; rejects with the load error or the crash. */
  static start(init: ModelProcessInit): Promise<ModelProcess> {
    const startedAt = performance.now()
    const child = fork(BOOT, [], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    let tail = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk)
      tail = (tail + chunk.toString()).slice(-STDERR_TAIL_BYTES)
    })
    const pending = new Map<number, Pending>()
    const life: Lifecycle = { exitExpected: false, unloaded: false, crash: null }
    let loaded = false
    let lastFraction = 0
    const progress = (fraction: number) => {
      lastFraction = fraction
      try {
        init.onProgress?.(fraction)
      } catch (err) {
        // Thrown here it would reach the event loop and end the daemon.
        init.logger.warn({ err: (err as Error).message }, 'model load progress listener failed')
      }
    }
    return new Promise<ModelProcess>((resolve, reject) => {
      const exited = new Promise<void>((done) =>
        child.once('exit', (code, signal) => {
          done()
          if (life.exitExpected) return
          life.crash = init.onCrash({ code, signal, reason: exitReason(code, signal, tail) })
          // Before 'loaded' this fails the load; after, a settled promise ignores it.
          reject(life.crash)
          for (const request of pending.values()) request.reject(life.crash)
          pending.clear()
        }),
      )
      child.on('message', (message: FromModelProcess) => {
        switch (message.type) {
          case 'load-progress':
            // llama.cpp may report its last progress after the load resolved; the caller is done by then.
            if (!loaded) progress(message.fraction)
            return
          case 'loaded': {
            loaded = true
            // A finished load reads 100% even when llama.cpp's last report comes after it.
            if (lastFraction < 1) progress(1)
            const loadMs = Math.round(performance.now() - startedAt)
            resolve(new ModelProcess(init, { ...message, loadMs }, child, pending, exited, life))
            return
          }
          case 'load-failed':
            // The child exits right after saying so.
            life.exitExpected = true
            reject(remoteError(message.error))
            return
          case 'text':
            pending.get(message.id)?.onText?.(message.text)
            return
          default: {
            const request = pending.get(message.id)
            pending.delete(message.id)
            if (message.type === 'failed') request?.reject(remoteError(message.error))
            else request?.resolve(message)
          }
        }
      })
      const { info, contextSize, threads, logLevel } = init
      send(child, { type: 'load', info, contextSize, threads, logLevel })
    })
  }

  /** `generate()` of generate.ts, run in the model's process; the request goes over whole. */
  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const answer = await this.#request(
      (id) => ({ type: 'generate', id, request }),
      options.signal,
      options.onText,
    )
    if (answer.type !== 'generated')
      throw new ModelProcessError('ModelProcessError', `unexpected ${answer.type}`)
    return answer.result
  }

  /** `embed()` of embed.ts, run in the model's process. */
  async embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbedResult> {
    const answer = await this.#request((id) => ({ type: 'embed', id, texts: [...texts] }), signal)
    if (answer.type !== 'embedded')
      throw new ModelProcessError('ModelProcessError', `unexpected ${answer.type}`)
    return answer.result
  }

  /** True once unloaded or dead: requests fail at once. */
  get disposed(): boolean {
    return this.#life.unloaded || this.#life.crash !== null
  }

  /** Stops running requests (they fail with ModelUnloadedError), frees the model and ends the process. */
  async dispose(): Promise<void> {
    this.#life.exitExpected = true
    this.#life.unloaded = true
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      send(this.#child, { type: 'unload' })
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), UNLOAD_GRACE_MS)
      await this.#exited
      clearTimeout(timer)
    }
    for (const request of this.#pending.values()) request.reject(this.#unloadedError())
    this.#pending.clear()
  }

  #unloadedError(): Error {
    return new ModelProcessError('ModelUnloadedError', `model "${this.info.name}" was unloaded`)
  }

  #request(
    message: (id: number) => ToModelProcess,
    signal?: AbortSignal,
    onText?: (text: string) => void,
  ): Promise<FromModelProcess> {
    if (this.#life.crash) return Promise.reject(this.#life.crash)
    if (this.#life.unloaded) return Promise.reject(this.#unloadedError())
    signal?.throwIfAborted()
    const id = this.#nextId++
    return new Promise<FromModelProcess>((resolve, reject) => {
      const onAbort = () => {
        this.#pending.delete(id)
        const reason = signal?.reason as Error | undefined
        send(this.#child, { type: 'abort', id, reason: reason?.message ?? 'aborted' })
        reject(reason ?? new Error('aborted'))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const done = () => signal?.removeEventListener('abort', onAbort)
      this.#pending.set(id, {
        resolve: (answer) => {
          done()
          resolve(answer)
        },
        reject: (err) => {
          done()
          reject(err)
        },
        onText,
      })
      send(this.#child, message(id))
    })
  }
}

function send(child: ChildProcess, message: ToModelProcess): void {
  // A child that died has no channel; its exit handler fails what was pending.
  if (child.connected) child.send(message)
}

function remoteError(error: WireError): Error {
  return new ModelProcessError(error.name, error.message)
}

/** llama.cpp's GGML_ASSERT line (or its last line of text), else how the process ended. */
export function exitReason(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const how = signal
    ? `the model process was killed by ${signal}`
    : `the model process exited with code ${code}`
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    // Log lines are the process's own JSON; llama.cpp writes plain text.
    .filter((line) => line !== '' && !line.startsWith('{'))
  const words = lines.find((line) => /GGML_ASSERT|GGML_ABORT/.test(line)) ?? lines.at(-1)
  return words ? `${how}: ${words.slice(0, 300)}` : how
}
