/**
 * The self-test a GPU backend passes before it is trusted: in a child process, list the devices the
 * backend finds, then decode one token of a tiny generated model on them. A backend that aborts
 * (node-llama-cpp's prebuilt CUDA library does on a driver whose toolchain it does not match), finds
 * no device or answers nothing fails, with llama.cpp's own words.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { rename } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { TINY_MODEL, writeLlamaModel } from '../gguf-gen/llama-generator.ts'
import type { BackendCandidate, BackendVerdict } from './backend-plan.ts'
import { backendSpec } from './backend-table.ts'
import { exitReason, LlamaServerProcess } from './llama-server-process.ts'

const run = promisify(execFile)
const PROBE_TIMEOUT_MS = 120_000

export interface ProbeTarget {
  candidate: BackendCandidate
  dir: string
  env: Record<string, string>
}

/** The tiny model every probe decodes, generated once per engine build folder. */
export async function probeModel(root: string): Promise<string> {
  const path = join(root, 'probe-model.gguf')
  if (!existsSync(path)) {
    const staging = `${path}.${process.pid}.tmp`
    await writeLlamaModel(staging, { ...TINY_MODEL, name: 'ripple backend probe' })
    await rename(staging, path)
  }
  return path
}

export async function probeBackend(
  target: ProbeTarget,
  model: string,
  signal?: AbortSignal,
): Promise<BackendVerdict> {
  const checkedAt = new Date().toISOString()
  const fail = (error: string): BackendVerdict => ({ ok: false, error, checkedAt })
  const env = { ...process.env, ...target.env }
  const pattern = backendSpec(target.candidate.id).selfTestDevice
  if (pattern) {
    try {
      const listed = await run(join(target.dir, 'llama-server'), ['--list-devices'], {
        cwd: target.dir,
        env,
        timeout: PROBE_TIMEOUT_MS,
        ...(signal ? { signal } : {}),
      })
      if (!pattern.test(listed.stdout + listed.stderr))
        return fail(`the ${target.candidate.kind} backend found no device: ${lastLine(listed.stderr)}`)
    } catch (err) {
      const e = err as { code?: number | string; signal?: NodeJS.Signals; stderr?: string }
      return fail(
        exitReason(typeof e.code === 'number' ? e.code : null, e.signal ?? null, e.stderr ?? String(err)),
      )
    }
  }
  let server: LlamaServerProcess | null = null
  try {
    server = await LlamaServerProcess.start({
      dir: target.dir,
      env: target.env,
      args: [
        '-m',
        model,
        '-c',
        '256',
        '-np',
        '1',
        '-t',
        '1',
        '-ngl',
        target.candidate.kind === 'cpu' ? '0' : '999',
      ],
      readyTimeoutMs: PROBE_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    })
    const response = await fetch(`${server.url}/completion`, {
      method: 'POST',
      headers: server.headers,
      body: JSON.stringify({ prompt: 'Hello', n_predict: 1, temperature: 0, cache_prompt: false }),
      signal: AbortSignal.any([AbortSignal.timeout(PROBE_TIMEOUT_MS), ...(signal ? [signal] : [])]),
    }).catch(async (err: unknown) => {
      // A backend that aborts mid-decode drops the connection: its exit says why.
      await Promise.race([server?.exited(), new Promise((r) => setTimeout(r, 2_000))])
      throw err
    })
    const body = (await response.json()) as { tokens_predicted?: number; error?: { message?: string } }
    if (!response.ok || body.tokens_predicted !== 1)
      return fail(`one-token decode failed: ${body.error?.message ?? `HTTP ${response.status}`}`)
    return { ok: true, checkedAt }
  } catch (err) {
    return fail(
      server?.exit?.reason ??
        (err as Error & { exit?: { reason: string } }).exit?.reason ??
        (err as Error).message,
    )
  } finally {
    await server?.stop()
  }
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? 'nothing said'
  )
}
