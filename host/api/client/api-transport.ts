/**
 * The API client's plumbing: requests to the daemon with its token, routes' paths from the contract,
 * answers checked against their schemas, event streams read as they arrive, and failures mapped to
 * the client's errors (errors.ts). fetch-based, so it runs in Node and browsers alike.
 */
import type { z } from 'zod'
import { readEvents, type StreamEvent } from '../../text/event-stream.ts'
import {
  type ApiErrorBody,
  ApiErrorBodySchema,
  type ReplyOf,
  type RouteName,
  routePath,
  routes,
} from '../contract/index.ts'
import { ApiRequestError, connectionError, InvalidReplyError, StreamEndedError } from './errors.ts'

export interface ApiClientInit {
  /** e.g. `http://127.0.0.1:4380` (what `daemon.json` names `api_url`). */
  baseUrl: string
  /** The API token (or, once they exist, an API key). */
  token: string
  /** Default: the global fetch. */
  fetch?: typeof fetch
}

export interface CallOptions {
  signal?: AbortSignal
}

export interface RequestParts extends CallOptions {
  params?: Record<string, string>
  query?: Record<string, string | number>
  body?: unknown
  /** A raw body sent as it is produced (application/octet-stream), instead of JSON. */
  stream?: AsyncIterable<Uint8Array>
  accept?: string
}

export class ApiTransport {
  readonly baseUrl: string
  readonly #token: string
  readonly #fetch: typeof fetch

  constructor(init: ApiClientInit) {
    this.baseUrl = init.baseUrl.replace(/\/+$/, '')
    this.#token = init.token
    this.#fetch = init.fetch ?? ((input, requestInit) => fetch(input, requestInit))
  }

  /** Sends to the route and answers its reply, checked against the route's schema. */
  async json<R extends RouteName>(route: R, parts: RequestParts = {}): Promise<ReplyOf<R>> {
    const res = await this.send(route, parts)
    return parseReply(route, routes[route].reply, await this.body(res, parts.signal)) as ReplyOf<R>
  }

  /** Sends with the token; throws DaemonUnreachableError or ApiRequestError unless the daemon says ok. */
  async send(route: RouteName, parts: RequestParts): Promise<Response> {
    const { method, path } = routes[route]
    const headers: Record<string, string> = {}
    if (parts.accept) headers.accept = parts.accept
    if (parts.body !== undefined) headers['content-type'] = 'application/json'
    if (parts.stream !== undefined) headers['content-type'] = 'application/octet-stream'
    const res = await this.fetch(routePath(path, parts.params, parts.query), {
      method,
      headers,
      body: parts.stream ?? (parts.body === undefined ? undefined : JSON.stringify(parts.body)),
      signal: parts.signal,
      // A streamed body: fetch sends it as it is produced (Node needs this said).
      ...(parts.stream === undefined ? {} : { duplex: 'half' }),
    } as RequestInit)
    if (!res.ok) {
      const answer = ApiErrorBodySchema.safeParse(await res.json().catch(() => null))
      const error: Partial<ApiErrorBody['error']> = answer.success ? answer.data.error : {}
      throw new ApiRequestError(
        res.status,
        error.name ?? 'HttpError',
        error.message ?? res.statusText,
        error.details,
      )
    }
    return res
  }

  /**
   * Fetches `path` with the token, whatever the status (the caller reads errors in its endpoint's
   * shape); a daemon that cannot be reached is a DaemonUnreachableError, an abort stays an abort.
   */
  async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.#fetch(`${this.baseUrl}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.#token}` },
      })
    } catch (err) {
      if (init.signal?.aborted) throw err
      throw connectionError(this.baseUrl, err)
    }
  }

  /** The JSON body; a daemon that dies while sending it is a DaemonConnectionLostError. */
  async body(res: Response, signal?: AbortSignal): Promise<unknown> {
    try {
      return await res.json()
    } catch (err) {
      if (signal?.aborted || err instanceof SyntaxError) throw err
      throw connectionError(this.baseUrl, err)
    }
  }

  /** The response's server-sent events as they arrive; a daemon lost mid-stream ends them with its error. */
  events(res: Response): AsyncGenerator<StreamEvent> {
    return readEvents(streamBody(res), (err) => connectionError(this.baseUrl, err))
  }
}

/** The value, as the schema outputs it; InvalidReplyError when the daemon's answer does not match. */
export function parseReply<S extends z.ZodType>(route: string, schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new InvalidReplyError(route, parsed.error.issues)
  return parsed.data
}

/** The response's body stream; a response without one ended before it opened. */
export function streamBody(res: Response): ReadableStream<Uint8Array> {
  if (res.body === null) throw new StreamEndedError('it opened')
  return res.body
}
