/**
 * The messages between the daemon and a model process (one child process per loaded model, which
 * runs llama.cpp so that an abort inside it ends that process, not the daemon). Sent over Node's IPC
 * channel with structured-clone serialization; requests travel whole, so options added to
 * GenerateRequest reach `generate()` in the child without being listed here.
 */
import type { LogLevel } from '../log/logger.ts'
import type { EmbedResult } from './embed.ts'
import type { GenerateRequest, GenerateResult } from './generate.ts'
import type { GgufModel } from './gguf-scan.ts'

export interface LoadRequest {
  info: GgufModel
  /** Tokens per context, before the model's own cap. */
  contextSize: number
  threads: number
  logLevel: LogLevel
}

/** An error from the child, by name (the API maps errors by name) and message. */
export interface WireError {
  name: string
  message: string
}

export type ToModelProcess =
  | ({ type: 'load' } & LoadRequest)
  | { type: 'generate'; id: number; request: GenerateRequest }
  | { type: 'embed'; id: number; texts: string[] }
  | { type: 'abort'; id: number; reason: string }
  | { type: 'unload' }

export type FromModelProcess =
  | { type: 'load-progress'; fraction: number }
  | { type: 'loaded'; loadMs: number; contextSize: number; threads: number }
  | { type: 'load-failed'; error: WireError }
  | { type: 'text'; id: number; text: string }
  | { type: 'generated'; id: number; result: GenerateResult }
  | { type: 'embedded'; id: number; result: EmbedResult }
  | { type: 'failed'; id: number; error: WireError }
