/**
 * A plain generation the runner may park for a higher band's request (issue 58, point 2). It runs on
 * `/completion` with its tokens returned. Parked, its stream is left (llama-server stops it), its
 * slot saved to a file (`/slots/<id>?action=save`: the slot's tokens and their cache) and the slot
 * given back; once it holds one again, the file is restored into an idle slot of the engine (waited
 * for as long as it takes: the runner's slot is held, so one frees) and the answer goes on in that
 * slot (`id_slot`) from the prompt + the tokens already sent (read from the file, whose cache holds
 * them: its caller sees a pause). A part parked again before it reached the engine keeps the file it
 * had. Only a file gone or unreadable by then costs the prompt's and those tokens' evaluation again (in
 * one batch, which on a GPU can take a greedy answer another way), said in a log line. Tokens generated
 * but not yet sent (held back by llama-server as a stop string's or a character's start) are made again.
 *
 * The runner weighs a park by the odds it is given (slot-yield.ts): the tokens left times this
 * generation's own time per token, against what a park costs on this engine (park-cost.ts, measured here).
 */
import { randomBytes } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ParkOdds, SlotYield } from '../../interface/slot-yield.ts'
import type { Logger } from '../../log/logger.ts'
import type { GenerateRequest } from '../generate.ts'
import { hasImages } from '../vision.ts'
import type { EngineHttp } from './engine-http.ts'
import type { ParkedSlots } from './parked-slots.ts'
import { serverPlan, type Thinking } from './server-request.ts'
import {
  type CompletionTrace,
  type FoldedAnswer,
  foldCompletion,
  refusal,
  type Sinks,
} from './server-stream.ts'
import { slotFileTokens } from './slot-file.ts'

export interface ParkedRunInit extends ParkedSlots {
  http: Pick<EngineHttp, 'post'>
  /** The engine's address and the headers its requests carry (its `GET /slots`). */
  url: string
  headers: Record<string, string>
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

/** How often a resumed part looks for the engine's idle slot to restore into. */
const IDLE_POLL_MS = 20

/** Why a parked part's stream was left. */
const PARKED = new Error('parked for a higher band')

/** What went out before a part: its tokens (by id, or as text where their ids were not known). */
type Sent = (number | string)[]

/**
 * What a park left: the slot's tokens as its file holds them, or why there is no file of this part
 * (the run's earlier file, if any, still holds what went out before it).
 */
type Saved = number[] | string

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
  /** A save of this run succeeded: its file holds what went out, or what went out before a part that made none. */
  let filed = false
  /** The engine's slot the file was restored into, for the next part to go on in. */
  let restored: number | null = null
  /** Its time per token in its last part that made two (ms). */
  let pace: number | null = null
  try {
    for (;;) {
      const trace: CompletionTrace = { promptTokens: 0, ids: new Map(), sent: 0 }
      const left = new AbortController()
      const generated = before?.generatedTokens ?? 0
      const claim = restored
      restored = null
      let ended: Promise<FoldedAnswer> | null = null
      let parking: Promise<Saved> | null = null
      let askedAt = 0
      let text = ''
      let firstAt: number | null = null
      const perToken = () =>
        trace.sent >= 2 && firstAt !== null ? (performance.now() - firstAt) / (trace.sent - 1) : pace
      const odds = (): ParkOdds => {
        const ms = perToken()
        const tokensLeft = maxTokens - generated - trace.sent
        const leftMs = ms === null || !Number.isFinite(tokensLeft) ? null : Math.max(0, tokensLeft) * ms
        return { leftMs, parkMs: init.cost.ms }
      }
      init.yielding.parkable(() => {
        parking ??= (async () => {
          askedAt = performance.now()
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
            return 'it ended first'
          return save(init, slot, file, trace, signal)
        })()
        return parking.then(() => {})
      }, odds)
      const noted: Sinks = {
        onEvent: (event) => {
          firstAt ??= performance.now()
          // Started on its restored slot: another resumed part may restore into any other.
          if (claim !== null) init.claimed.delete(claim)
          if (event.type === 'token') text += event.text
          sinks.onEvent?.(event)
        },
      }
      const part = {
        ...body,
        prompt: resumed(prompt, sent),
        n_predict: maxTokens - generated,
        return_tokens: true,
        dry_penalty_last_n: tag,
        ...(claim !== null && { id_slot: claim }),
      }
      ended = stream(init, part, noted, trace, AbortSignal.any([signal, left.signal]))
      let answer: FoldedAnswer | null = null
      try {
        answer = await ended
      } catch (err) {
        if (!left.signal.aborted || signal.aborted) throw err
      } finally {
        init.yielding.parkable(null)
        if (claim !== null) init.claimed.delete(claim)
      }
      pace = perToken()
      const promptTokens = before?.promptTokens ?? trace.promptTokens
      if (answer !== null) {
        // Its restored slot was another's by the time it started there: said as a file gone is.
        const again = answer.promptTokens - answer.cachedTokens
        if (claim !== null && again > 1)
          rerun(init, promptTokens, before, file, `the engine evaluated ${again} of its tokens again`)
        return joined(before, answer, promptTokens)
      }
      const saved = await parking!
      const parkedMs = performance.now() - askedAt
      if (typeof saved !== 'string') filed = true
      before = joined(before, partial(trace.sent, text, firstAt), promptTokens)
      sent.push(...sentTokens(trace, typeof saved === 'string' ? null : saved, text))
      init.logger?.debug(
        { tokens: before.generatedTokens, saved: typeof saved === 'string' ? saved : true },
        'generation parked',
      )
      await init.yielding.resume(signal)
      // Nothing went out and nothing was filed: it starts again, as it would have.
      if (!filed && sent.length === 0) continue
      const restoreAt = performance.now()
      const got = filed ? await restore(init, file, signal) : `it could not be saved: ${saved as string}`
      if (typeof got === 'number') {
        restored = got
        const parkMs = parkedMs + performance.now() - restoreAt
        init.cost.note(parkMs)
        init.logger?.debug(
          { park_ms: Math.round(parkMs), estimate_ms: Math.round(init.cost.ms) },
          'parked generation restored',
        )
      } else {
        filed = false
        rerun(init, promptTokens, before, file, got)
      }
    }
  } finally {
    await rm(join(init.dir, file), { force: true }).catch(() => {})
  }
}

function rerun(
  init: ParkedRunInit,
  promptTokens: number,
  before: FoldedAnswer | null,
  file: string,
  why: string,
): void {
  init.logger?.info(
    { prompt_tokens: promptTokens, tokens: before?.generatedTokens ?? 0, file, why },
    `parked generation resumes by re-running its prompt and the tokens it sent: ${why}`,
  )
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
 * file holds them, or why not.
 */
async function save(
  init: ParkedRunInit,
  slot: number,
  file: string,
  trace: CompletionTrace,
  signal: AbortSignal,
): Promise<Saved> {
  if (slot < 0) return 'it had not reached a slot of the engine'
  const response = await init.http
    .post(`/slots/${slot}?action=save`, { filename: file }, signal)
    .catch(() => null)
  await response?.json().catch(() => {})
  if (response?.ok !== true) return `the engine did not save it (${response?.status ?? 'no answer'})`
  const tokens = slotFileTokens(await readFile(join(init.dir, file)).catch(() => Buffer.alloc(0)))
  if (tokens === null) return 'its slot file was unreadable'
  // Another request the engine gave the slot between the part's end and the save (one waiting there
  // goes first) would be in the file instead: its tokens are not those the stream named.
  const made = tokens.slice(trace.promptTokens)
  const mine = [...trace.ids].every(([at, id]) => at > made.length || made[at - 1] === id)
  if (!mine || made.length < trace.sent - 1) return 'its slot held another request by the save'
  return tokens
}

/**
 * Restores the file into an idle slot of the engine that no other resumed part claimed, waiting for
 * one (the runner gave this part a slot: the engine's frees as the request before it there ends, and
 * a part left by a park may run on until llama-server sees its connection closed): that slot, claimed,
 * or why not. An engine that no longer answers fails the run.
 */
async function restore(init: ParkedRunInit, file: string, signal: AbortSignal): Promise<number | string> {
  for (;;) {
    const slots = await engineSlots(init, signal)
    const idle = slots.find((s) => !s.is_processing && !init.claimed.has(s.id))
    if (idle !== undefined) {
      init.claimed.add(idle.id)
      const response = await init.http
        .post(`/slots/${idle.id}?action=restore`, { filename: file }, signal)
        .catch(() => null)
      const said = (await response?.json().catch(() => null)) as { error?: { message?: string } } | null
      if (response?.ok === true) return idle.id
      init.claimed.delete(idle.id)
      return `its slot file is gone or unreadable (${said?.error?.message ?? 'no answer'})`
    }
    await sleep(IDLE_POLL_MS, undefined, { signal })
  }
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
