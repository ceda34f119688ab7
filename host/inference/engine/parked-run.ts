/**
 * A plain generation the runner may park for a higher band's request (issue 58, point 2). It runs on
 * `/completion` with its tokens returned. Parked, its stream is left (llama-server stops it), its
 * slot saved to a file (`/slots/<id>?action=save`: the slot's tokens and their cache) and the slot
 * given back; once it holds one again, the file is restored into an idle slot and the answer goes on
 * from the prompt + the tokens already sent (read from the file, whose cache holds them: its caller
 * sees a pause). A file gone or unreadable by then costs the prompt's evaluation again, said in a log
 * line. Tokens generated but not yet sent (held back by llama-server as a stop string's or a
 * character's start) are made again.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SlotYield } from '../../interface/slot-yield.ts'
import type { Logger } from '../../log/logger.ts'
import type { GenerateRequest } from '../generate.ts'
import { hasImages } from '../vision.ts'
import type { EngineHttp } from './engine-http.ts'
import { SLOTS_DIR_PREFIX } from './llama-server-process.ts'
import { serverPlan, type Thinking } from './server-request.ts'
import {
  type CompletionTrace,
  type FoldedAnswer,
  foldCompletion,
  refusal,
  type Sinks,
} from './server-stream.ts'
import { slotFileTokens } from './slot-file.ts'

export interface ParkedRunInit {
  http: Pick<EngineHttp, 'post'>
  /** The engine's address and the headers its requests carry (its `GET /slots`). */
  url: string
  headers: Record<string, string>
  /** llama-server's `--slot-save-path`. */
  dir: string
  yielding: SlotYield
  logger?: Logger | undefined
}

interface EngineSlot {
  id: number
  is_processing: boolean
  params?: { dry_penalty_last_n?: number }
}

/**
 * llama-server names a stream's slot only at its end: a part is told by a tag in a setting `/slots`
 * shows that does nothing here (DRY's window, with DRY off: no multiplier is ever sent).
 */
const TAG_MIN = 1 << 20

/**
 * A new engine's `--slot-save-path`, named by the daemon's pid: a killed daemon's are removed by the
 * next start (removeStaleKeyDirs).
 */
export function parkedSlotsDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), `${SLOTS_DIR_PREFIX}${process.pid}-`))
}

/**
 * Whether a generation can be parked and resumed from its tokens: a prompt, or chat with no tools,
 * schema, grammar or images on a template that does not think (its text is the whole answer).
 */
export function parkable(request: GenerateRequest, thinking: Thinking): boolean {
  const tools = (request.tools?.length ?? 0) > 0 && request.tool_choice !== 'none'
  const constrained = request.json_schema !== undefined || request.grammar !== undefined
  return thinking === 'no' && !tools && !constrained && !hasImages(request)
}

/** Its `/completion` body: the prompt rendered by the model's template, cached as any other's. */
export async function parkableBody(
  request: GenerateRequest,
  thinking: Thinking,
  render: (template: Record<string, unknown>) => Promise<string>,
): Promise<Record<string, unknown>> {
  const plan = serverPlan(request, { parseCalls: false, thinking })
  if (plan.kind !== 'completion') throw new Error('a parkable generation is planned for /completion')
  // A resumed part finds its restored slot by its prompt.
  return { ...plan.completion(plan.template ? await render(plan.template) : null), cache_prompt: true }
}

/** The engine's slots, as `GET /slots` lists them. */
async function engineSlots(init: ParkedRunInit, signal: AbortSignal): Promise<EngineSlot[]> {
  const response = await fetch(`${init.url}/slots`, { headers: init.headers, signal })
  if (!response.ok) throw await refusal(response)
  return (await response.json()) as EngineSlot[]
}

/** How long a resumed part looks for the engine's idle slot to restore into (25 x 20 ms). */
const IDLE_TRIES = 25
const IDLE_POLL_MS = 20

/** Why a parked part's stream was left. */
const PARKED = new Error('parked for a higher band')

/** What went out before a part: its tokens (by id, or as text where their ids were not known). */
type Sent = (number | string)[]

/**
 * Runs the `/completion` `body` (its `prompt` a string, `n_predict` its tokens), parked and resumed
 * as often as the runner asks.
 */
export async function parkedRun(
  init: ParkedRunInit,
  body: Record<string, unknown>,
  sinks: Sinks,
  signal: AbortSignal,
): Promise<FoldedAnswer> {
  const prompt = body.prompt as string
  const maxTokens = body.n_predict as number
  const file = `park-${randomBytes(8).toString('hex')}.bin`
  const tag = TAG_MIN + (randomBytes(4).readUInt32LE() % 2 ** 30)
  const sent: Sent = []
  let before: FoldedAnswer | null = null
  try {
    for (;;) {
      const trace: CompletionTrace = { promptTokens: 0, ids: new Map(), sent: 0 }
      const left = new AbortController()
      let ended: Promise<FoldedAnswer> | null = null
      let parking: Promise<number[] | null> | null = null
      init.yielding.parkable(() => {
        parking ??= (async () => {
          const slots = await engineSlots(init, signal).catch(() => [])
          const slot = slots.find((s) => s.params?.dry_penalty_last_n === tag)?.id ?? -1
          left.abort(PARKED)
          // An answer that ended before the park took hold has nothing to save: a file saved now
          // would outlive it (its run removed the file on returning), for as long as the engine runs.
          if (
            await ended?.then(
              () => true,
              () => false,
            )
          )
            return null
          return save(init, slot, file, signal)
        })()
        return parking.then(() => {})
      })
      let text = ''
      let firstAt: number | null = null
      const noted: Sinks = {
        onEvent: (event) => {
          firstAt ??= performance.now()
          if (event.type === 'token') text += event.text
          sinks.onEvent?.(event)
        },
      }
      const generated = before?.generatedTokens ?? 0
      const part = {
        ...body,
        prompt: resumed(prompt, sent),
        n_predict: maxTokens - generated,
        return_tokens: true,
        dry_penalty_last_n: tag,
      }
      ended = stream(init, part, noted, trace, AbortSignal.any([signal, left.signal]))
      let answer: FoldedAnswer | null = null
      try {
        answer = await ended
      } catch (err) {
        if (!left.signal.aborted || signal.aborted) throw err
      } finally {
        init.yielding.parkable(null)
      }
      const promptTokens = before?.promptTokens ?? trace.promptTokens
      if (answer !== null) return joined(before, answer, promptTokens)
      const saved = await parking!
      before = joined(before, partial(trace.sent, text, firstAt), promptTokens)
      sent.push(...sentTokens(trace, saved, text))
      init.logger?.debug({ tokens: before.generatedTokens, saved: saved !== null }, 'generation parked')
      await init.yielding.resume(signal)
      const missed = saved === null ? 'it could not be saved' : await restore(init, file, signal)
      if (missed !== null)
        init.logger?.info(
          { prompt_tokens: promptTokens, tokens: before.generatedTokens, file, why: missed },
          `parked generation resumes by re-running its prompt and the tokens it sent: ${missed}`,
        )
    }
  } finally {
    await rm(join(init.dir, file), { force: true }).catch(() => {})
  }
}

/** The prompt, then the tokens already sent: the restored cache holds them all. */
function resumed(prompt: string, sent: Sent): string | Sent {
  if (sent.length === 0) return prompt
  // llama-server reads an array of strings alone as several prompts.
  if (sent.every((t) => typeof t === 'string')) return prompt + sent.join('')
  return [prompt, ...sent]
}

/**
 * The tokens of a parked part whose text went out: from its slot's file (the tokens in the cache), the
 * last one sent from its stream (sampled and sent, not yet in the cache); as text where neither has
 * them (the save failed).
 */
export function sentTokens(trace: CompletionTrace, saved: number[] | null, text: string): Sent {
  const made = saved?.slice(trace.promptTokens) ?? []
  const ids: number[] = []
  for (let at = 1; at <= trace.sent; at++) {
    const id = made[at - 1] ?? trace.ids.get(at)
    if (id === undefined) return text === '' ? [] : [text]
    ids.push(id)
  }
  return ids
}

async function stream(
  init: ParkedRunInit,
  body: Record<string, unknown>,
  sinks: Sinks,
  trace: CompletionTrace,
  signal: AbortSignal,
): Promise<FoldedAnswer> {
  const response = await init.http.post('/completion', body, signal)
  if (!response.ok) throw await refusal(response)
  return foldCompletion(response.body, sinks, trace)
}

/**
 * Saves the left stream's slot (llama-server waits until the slot is idle): the slot's tokens as the
 * file holds them, or null when it could not.
 */
async function save(
  init: ParkedRunInit,
  slot: number,
  file: string,
  signal: AbortSignal,
): Promise<number[] | null> {
  // Left before its first token came: nothing worth keeping.
  if (slot < 0) return null
  const response = await init.http
    .post(`/slots/${slot}?action=save`, { filename: file }, signal)
    .catch(() => null)
  await response?.json().catch(() => {})
  if (response?.ok !== true) return null
  return slotFileTokens(await readFile(join(init.dir, file)).catch(() => Buffer.alloc(0)))
}

/**
 * Restores the file into an idle slot, which the resumed prompt then finds by its prefix; null once
 * restored, else why not.
 */
async function restore(init: ParkedRunInit, file: string, signal: AbortSignal): Promise<string | null> {
  // The engine's own count lags the runner's: its slot may still be ending the last request.
  let idle: EngineSlot | undefined
  for (let tries = 0; idle === undefined && tries < IDLE_TRIES; tries++) {
    if (tries > 0) await sleep(IDLE_POLL_MS, undefined, { signal })
    idle = (await engineSlots(init, signal).catch(() => [])).find((s) => !s.is_processing)
  }
  if (idle === undefined) return 'no slot of the engine was idle'
  const response = await init.http
    .post(`/slots/${idle.id}?action=restore`, { filename: file }, signal)
    .catch(() => null)
  const said = (await response?.json().catch(() => null)) as { error?: { message?: string } } | null
  if (response?.ok === true) return null
  return `its slot file is gone or unreadable (${said?.error?.message ?? 'no answer'})`
}

/** A part left where it was parked: the text and tokens that went out. */
function partial(sent: number, text: string, firstAt: number | null): FoldedAnswer {
  return {
    text,
    reasoning: '',
    toolCalls: [],
    stopType: 'none',
    promptTokens: 0,
    generatedTokens: sent,
    reasoningTokens: 0,
    cachedTokens: 0,
    decodeRate: null,
    firstOutputAt: firstAt,
  }
}

/** The parts so far and the next, as one answer: its prompt the first part's, its tokens all of theirs. */
function joined(before: FoldedAnswer | null, next: FoldedAnswer, promptTokens: number): FoldedAnswer {
  if (before === null) return { ...next, promptTokens }
  return {
    ...next,
    text: before.text + next.text,
    promptTokens,
    cachedTokens: before.cachedTokens,
    generatedTokens: before.generatedTokens + next.generatedTokens,
    firstOutputAt: before.firstOutputAt ?? next.firstOutputAt,
    decodeRate: next.decodeRate ?? before.decodeRate,
  }
}
