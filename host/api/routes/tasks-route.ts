/**
 * Tasks: POST /api/tasks submits (requirements and timing default to what a small task needs),
 * GET /api/tasks lists, GET /api/tasks/:hash shows the whole life of one, POST /api/tasks/:hash/cancel
 * cancels, and GET /api/tasks/:hash/events streams its status and progress as server-sent events
 * until it ends. GET /api/served/:request shows a request that went straight to its runner.
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import {
  type LeafProof,
  ModelNameSchema,
  NO_REQUIREMENTS,
  TaskOrderSchema,
} from '../../../zomes-bindings/index.ts'
import type { ZomeCallOptions } from '../../interface/conductor-port.ts'
import type { SchedulerPort } from '../../scheduler/scheduler-port.ts'
import { isTerminal, type TaskEvent } from '../../scheduler/scheduler-service.ts'
import type { WorkersPort } from '../../workers/workers-port.ts'
import { API_STATUS, CREATED } from '../api-status.ts'
import { type LeafCheckView, routes, type ServedView } from '../contract/index.ts'
import { sendError, sendInvalidPayload } from '../error-reply.ts'
import { clientGone } from './event-stream-reply.ts'

export interface TaskApi {
  scheduler: Pick<SchedulerPort, 'submit' | 'list' | 'view' | 'cancel' | 'watch'>
  workers: WorkersPort
  /** Called with each task submitted through the API (the metrics follow it). */
  onSubmitted?: (hash: string) => void
  /**
   * The record of a request routed straight to its runner; null when this peer took no part in it.
   * It and the leaf check read under their client's signal: a client gone stops their reads.
   */
  served?: (request: string, options: ZomeCallOptions) => Promise<ServedView | null>
  /** Checks a leaf and its proof against the runner's public batch. */
  checkLeaf?: (proof: LeafProof, options: ZomeCallOptions) => Promise<LeafCheckView>
}

const NamedModelSchema = z.object({ model: ModelNameSchema })

/** A task's input with its JSON around it: up to 8 MiB. */
const TASK_BODY_LIMIT = 8 * 1024 * 1024

/** Keeps idle proxies and clients from closing a quiet event stream. */
const KEEPALIVE_MS = 15_000

export function registerTaskRoutes(app: FastifyInstance, api: TaskApi): void {
  // An input too big for a private payload goes on IPFS (taskInputOf): the body may be bigger than others.
  app.post(routes.submitTask.path, { bodyLimit: TASK_BODY_LIMIT }, async (request, reply) => {
    const body = routes.submitTask.body.safeParse(request.body ?? null)
    if (!body.success) return sendInvalidPayload(reply, 'invalid task', body.error)
    const b = body.data
    // Checked against the worker here, so a bad input fails now rather than on a worker.
    const worker = api.workers.get(b.kind)
    const input = worker?.input.safeParse(b.input)
    if (input && !input.success) return sendInvalidPayload(reply, `invalid input for ${b.kind}`, input.error)
    // Claimants never see the input: the model it names is what they place the task by.
    const named = NamedModelSchema.safeParse(b.input)
    const model = worker?.needsModel && named.success ? { model: named.data.model } : {}
    const task = TaskOrderSchema.safeParse({
      kind: b.kind,
      requirements: { ...NO_REQUIREMENTS, ...model, ...b.requirements },
      lease_ms: b.lease_ms,
      deadline: (Date.now() + b.timeout_ms) * 1000,
      max_attempts: b.max_attempts,
      fan_out: b.fan_out,
    })
    if (!task.success) return sendInvalidPayload(reply, 'invalid task', task.error)
    const ref = await api.scheduler.submit(task.data, b.input)
    api.onSubmitted?.(ref.action_hash)
    return reply.code(CREATED).send(ref)
  })

  app.get(routes.listTasks.path, async () => ({ tasks: await api.scheduler.list() }))

  app.get(routes.getTask.path, async (request, reply) => {
    const params = routes.getTask.params.safeParse(request.params)
    if (!params.success) return sendInvalidPayload(reply, 'not a task hash', params.error)
    return api.scheduler.view(params.data.hash)
  })

  app.get(routes.getServed.path, async (request, reply) => {
    const params = routes.getServed.params.safeParse(request.params)
    if (!params.success) return sendInvalidPayload(reply, 'not a request hash', params.error)
    const state = (await api.served?.(params.data.request, { signal: clientGone(reply) })) ?? null
    if (state === null)
      return sendError(
        reply,
        404,
        'RequestNotFoundError',
        `no record of request ${params.data.request} here: only the peer that asked for it and the one that ran it keep one`,
      )
    return state
  })

  app.post(routes.checkLeaf.path, async (request, reply) => {
    const body = routes.checkLeaf.body.safeParse(request.body ?? null)
    if (!body.success) return sendInvalidPayload(reply, 'not a leaf with its proof', body.error)
    if (api.checkLeaf === undefined)
      return sendError(
        reply,
        API_STATUS.not_found,
        'RequestNotFoundError',
        'this peer keeps no batches of direct requests',
      )
    return api.checkLeaf(body.data, { signal: clientGone(reply) })
  })

  app.post(routes.cancelTask.path, async (request, reply) => {
    const params = routes.cancelTask.params.safeParse(request.params)
    if (!params.success) return sendInvalidPayload(reply, 'not a task hash', params.error)
    const body = routes.cancelTask.body.safeParse(request.body ?? undefined)
    if (!body.success) return sendInvalidPayload(reply, 'invalid cancellation', body.error)
    return api.scheduler.cancel(params.data.hash, body.data.reason)
  })

  app.get(routes.taskEvents.path, async (request, reply) => {
    const params = routes.taskEvents.params.safeParse(request.params)
    if (!params.success) return sendInvalidPayload(reply, 'not a task hash', params.error)
    const { hash } = params.data
    // Fails before the stream opens when the task is unknown (not found, as the error says).
    await api.scheduler.view(hash)
    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    })
    let ended = false
    const send = (event: TaskEvent) => {
      if (ended) return
      raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)
      if (event.type === 'status' && isTerminal(event.status)) {
        ended = true
        void end()
      }
    }
    const end = async () => {
      const final = await api.scheduler.view(hash).catch(() => null)
      // Without it (a store closing under the daemon's shutdown) the client sees the stream end early.
      if (final !== null && !raw.writableEnded) raw.write(`event: end\ndata: ${JSON.stringify(final)}\n\n`)
      close()
    }
    const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS)
    let unwatch: (() => void) | null = null
    const close = () => {
      clearInterval(keepalive)
      unwatch?.()
      raw.end()
    }
    // The response closes when the client goes away (or once the task ended).
    raw.on('close', close)
    unwatch = api.scheduler.watch(hash, send)
  })
}
