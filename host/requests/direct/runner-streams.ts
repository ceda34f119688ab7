/**
 * The runner's side of the direct protocol's streams, both versions (direct-wire.ts). Version 2 takes
 * the offer first: the runner's policies and capacity judge it (DirectRunner.admit) and only a `ready`,
 * with a slot held, brings the request, which must be the one offered. Version 1 (a requester of
 * release 0.1.0) sends the request at once. From the request on, both answer alike, but for the proof:
 * version 2 carries the window's public batch beside it (0.1.0's frame has no room for it).
 */
import type { Stream } from '@libp2p/interface'
import type { AgentPort } from '../../interface/agent-port.ts'
import type { CarriedOps, OpCarrier } from '../../interface/carried-ops.ts'
import type { Logger } from '../../log/logger.ts'
import { KEY_BAND } from '../priority.ts'
import { digestRequest } from './direct-request.ts'
import {
  type DirectRunner,
  RUN_LIMIT_MS,
  type RunOutcome,
  RunRefusedError,
  type RunSink,
} from './direct-runner.ts'
import {
  DIRECT_PROTOCOL_V1,
  DIRECT_PROTOCOL_V2,
  DIRECT_PROTOCOLS,
  type JsonFrames,
  jsonFrames,
  MAX_FRAME_BYTES,
  type Offer,
  OfferFrameSchema,
  offerMismatch,
  PromptFrameSchema,
  RequestFrameSchema,
  readsEvent,
  refusedFrame,
} from './direct-wire.ts'
import { frameSender } from './frame-sender.ts'

/**
 * How long a slot held for an offer waits for its request (issue 55, point 7): the requester sends it
 * the moment it reads `ready`, so a round trip and its bytes; a few seconds cover a slow relay's round
 * trip, and a slot held longer for nothing is a slot another member waits for. A slot released so is
 * charged to the member that held it (slot-turns.ts).
 */
export const PROMPT_START_MS = 4_000
/**
 * ... and the least rate a request's bytes then come at (the offer says how many, up to a frame's
 * limit): a request of 10 MiB of images over a slow relay takes seconds more, a prompt of text none.
 */
export const PROMPT_BYTES_PER_S = 1024 * 1024

/** How long a slot held for `offer` waits for its request. */
export function promptWaitMs(offer: Pick<Offer, 'input_bytes'>, startMs = PROMPT_START_MS): number {
  return startMs + Math.ceil((Math.min(offer.input_bytes, MAX_FRAME_BYTES) / PROMPT_BYTES_PER_S) * 1000)
}

export interface ServeOptions {
  /** How long a held slot waits for its request to begin (default PROMPT_START_MS; tests shorten it). */
  promptStartMs?: number
}

type Runner = Pick<DirectRunner, 'admit' | 'runAdmitted' | 'run'>
/** The public batch a proof cites, as ops; null when it cannot be carried. */
type CarryBatch = (batch: string) => CarriedOps | null
/** What a stream's version does before it answers: reads the request (and, in version 2, the offer). */
type Begin = (frames: JsonFrames, sink: RunSink, signal: AbortSignal) => Promise<RunOutcome>

/**
 * Serves both versions of the direct protocol to peers of the mesh (the stream layer admits members
 * only). Without a carrier (a backend that cannot read its own ops) the proof goes alone, as in version 1.
 */
export async function serveDirect(
  runner: Runner,
  agents: AgentPort<Stream>,
  logger: Logger,
  carrier: Pick<OpCarrier, 'carry'> | null = null,
  options: ServeOptions = {},
): Promise<void> {
  // The batch and the action before it: the private leaves it cites, written in the same commit.
  const carry: CarryBatch | null = carrier && lastBatch((batch) => carrier.carry('resource_mesh', batch, 1))
  await agents.handle(DIRECT_PROTOCOL_V1, (stream, requester) =>
    answer(stream, logger, 1, null, async (frames, sink, signal) => {
      const frame = RequestFrameSchema.safeParse(await frames.read(signal))
      if (!frame.success) throw new RunRefusedError('invalid', 'not a direct request')
      const { request, queue } = frame.data
      return runner.run(request, requester, sink, signal, queue, KEY_BAND)
    }),
  )
  await agents.handle(DIRECT_PROTOCOL_V2, (stream, requester) =>
    answer(stream, logger, 2, carry, (frames, sink, signal) =>
      offered(runner, requester, frames, sink, signal, options.promptStartMs),
    ),
  )
}

/**
 * Every proof of a window cites the same batch, and its proofs go out together once it is signed: the
 * ops are read from the chain (and encoded) for the first of them, not again for each request.
 */
export function lastBatch(carry: CarryBatch): CarryBatch {
  let last: { batch: string; ops: CarriedOps | null } | null = null
  return (batch) => {
    if (last?.batch !== batch) last = { batch, ops: carry(batch) }
    return last.ops
  }
}

export async function stopServingDirect(agents: AgentPort<Stream>): Promise<void> {
  for (const protocol of DIRECT_PROTOCOLS) await agents.unhandle(protocol).catch(() => {})
}

/** Version 2: the offer judged, `ready` with a slot held, then the request, checked against the offer. */
async function offered(
  runner: Runner,
  requester: string,
  frames: JsonFrames,
  sink: RunSink,
  signal: AbortSignal,
  promptStartMs?: number,
): Promise<RunOutcome> {
  const first = OfferFrameSchema.safeParse(await frames.read(signal))
  if (!first.success) throw new RunRefusedError('invalid', 'not a direct offer')
  const { offer, queue, whole, reads = [], priority = KEY_BAND } = first.data
  const admission = await runner.admit(offer, requester, signal, queue, priority)
  try {
    await frames.write({ type: 'ready' }, signal)
    const waited = AbortSignal.timeout(promptWaitMs(offer, promptStartMs))
    const frame = PromptFrameSchema.safeParse(
      await frames.read(AbortSignal.any([signal, waited])).catch((err: unknown) => {
        // Said to the requester, if it still listens; the slot goes back (charged) either way.
        if (waited.aborted && !signal.aborted)
          throw new RunRefusedError('invalid', 'the request did not come in time after ready')
        throw err
      }),
    )
    if (!frame.success) throw new RunRefusedError('invalid', 'not a direct request')
    const { request } = frame.data
    const mismatch = offerMismatch(offer, request.kind, request.model, digestRequest(request, requester))
    if (mismatch !== null)
      throw new RunRefusedError('invalid', `the request is not the one offered: ${mismatch}`)
    const read: RunSink = {
      ...sink,
      ...(whole && { whole }),
      onEvent: (event) => {
        if (readsEvent(2, reads, event.type)) sink.onEvent(event)
      },
    }
    return await runner.runAdmitted(admission, request, read, signal)
  } finally {
    admission.release()
  }
}

/**
 * Answers one stream: `begin` reads the request and runs it; its events, then its output and the
 * leaf's proof (with its batch, when `carry`), or the refusal, or the failure, go back in order.
 */
async function answer(
  stream: Stream,
  logger: Logger,
  version: 1 | 2,
  carry: CarryBatch | null,
  begin: Begin,
): Promise<void> {
  const frames = jsonFrames(stream)
  const aborted = new AbortController()
  const timer = setTimeout(() => aborted.abort(new Error('the request ran past its limit')), RUN_LIMIT_MS)
  stream.addEventListener('close', () => aborted.abort(new Error('the requester went away')))
  try {
    // Frames go out in order; those of one turn (the last token and `done`) in one write.
    const sender = frameSender(frames, aborted.signal)
    const send = (frame: unknown) => sender.send(frame)
    const sink: RunSink = {
      accepted: () => send({ type: 'accepted' }),
      // The run's events are frames as they are; version 1's are strict, and 0.1.0 reads only its
      // own (version 2's offer says what its requester reads).
      onEvent: (event) => {
        if (version === 2 || readsEvent(1, [], event.type)) send(event)
      },
    }
    try {
      const outcome = await begin(frames, sink, aborted.signal)
      send({ type: 'done', output: outcome.output })
      const signed = await outcome.signed
      const batch = signed && carry?.(signed.proof.batch)
      send({
        type: 'proof',
        proof: signed?.proof ?? null,
        root: signed?.root ?? null,
        ...(batch && { batch }),
      })
    } catch (err) {
      if (err instanceof RunRefusedError) send(refusedFrame(version, err.refusal))
      else send({ type: 'failed', message: (err as Error).message || String(err) })
    }
    await sender.sent()
    await stream.close().catch(() => {})
  } catch (err) {
    logger.debug({ err }, 'direct request stream ended')
    stream.abort(err as Error)
  } finally {
    clearTimeout(timer)
  }
}
