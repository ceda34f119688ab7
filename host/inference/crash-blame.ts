/**
 * Who is to blame when a model's engine process died on its own. A split's layout may account for it (a
 * worker went away). A fault (abort, segfault) is the backend's when the tiny probe model crashes it too
 * (the next backend takes over), else the file's, which is quarantined by hash; a kill says nothing
 * about either.
 */
import type { Logger } from '../log/logger.ts'
import type { ActiveBackend, EngineBackends } from './engine/engine-backends.ts'
import type { ServerExit } from './engine/llama-server-process.ts'
import type { GgufModel } from './gguf-scan.ts'
import { ModelCrashedError } from './model-errors.ts'
import type { ModelQuarantine } from './model-quarantine.ts'
import type { EngineLayout } from './model-types.ts'

// How a process dies when llama.cpp asserts (abort) or faults on a file: the file's doing. A kill
// (SIGKILL from the OOM killer or a person, SIGTERM) says nothing about the file.
const FILE_FAULT_SIGNALS: ReadonlySet<string> = new Set(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE'])

export interface Crash {
  info: GgufModel
  exit: ServerExit
  backend: ActiveBackend
  layout?: EngineLayout
}

export interface BlameDeps {
  backends: EngineBackends
  quarantine: ModelQuarantine
  logger: Logger
}

/** The error the crash is, once blamed (and the file quarantined when it is the file's fault). */
export async function blameCrash({ info, exit, backend, layout }: Crash, deps: BlameDeps): Promise<Error> {
  const { backends, quarantine, logger } = deps
  const accounted = await layout?.blame(exit)
  if (accounted) {
    logger.warn({ model: info.name, reason: accounted.message }, 'a split model ended')
    return accounted
  }
  const fault = exit.signal !== null && FILE_FAULT_SIGNALS.has(exit.signal)
  const backendAtFault = fault && (await backends.blameBackend(backend).catch(() => false))
  const quarantined = fault && !backendAtFault
  const reason = backendAtFault
    ? `${exit.reason}; the ${backend.candidate.id} backend crashes on a tiny probe model too, so the backend ` +
      `is at fault, not the file: it is no longer used (now: ${(await backends.active()).candidate.id})`
    : exit.reason
  const error = new ModelCrashedError(info.name, info.sha256, reason, quarantined)
  // A warning with the reason, not a stack: the daemon is fine, the file (or backend) is not.
  logger.warn({ model: info.name, sha256: info.sha256, reason, quarantined }, error.message)
  if (quarantined) {
    const entry = {
      name: info.name,
      reason: `crashed llama.cpp (${exit.reason})`,
      at: new Date().toISOString(),
    }
    await quarantine
      .add(info.sha256, entry)
      .catch((err: unknown) => logger.error({ err }, 'could not save the model quarantine'))
  }
  return error
}
