/**
 * A gossip topic per model: a model's runners publish their load and slot news there, and only its
 * runners and its current users hear it (Ethereum's per-subnet topics), not every peer every runner's
 * heartbeat. Each topic keeps a rate budget (topic-pace.ts): a runner publishes at most every
 * max(base, publishers / budget) seconds, the latest news replacing what waits, and a subscriber lets
 * through at most twice the budget a second from any number of publishers, so its inbound stays bounded.
 *
 * Messages are not signed by libp2p (pubsub.ts): what they carry is signed by its author and checked by
 * the listener, whose verdict decides whether the message goes on.
 */
import { createHash } from 'node:crypto'
import { type GossipSub, type GossipsubMessage, TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId, TypedEventTarget } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import type { NetworkIdentity } from './network-identity.ts'
import type { PeerBook } from './peer-book.ts'
import type { GossipSubClass, GossipVerdict } from './pubsub.ts'
import {
  floodsTo,
  publishersSeen,
  publishIntervalMs,
  TOPIC_BUDGET_PER_SEC,
  WINDOW_INTERVALS,
} from './topic-pace.ts'

/** Model topics one peer joins at most (gossipsub bounds what its peers may subscribe to alike). */
export const MAX_MODEL_TOPICS = 64

export interface ModelNews {
  model: string
  data: Uint8Array
  /** The peer that delivered it (verified), not necessarily its author. */
  from: PeerId
  /** As GossipMessage.verdict (pubsub.ts): accepted news goes on to the topic's other peers. */
  verdict(result: GossipVerdict): void
}

export interface ModelTopicsEvents {
  news: CustomEvent<ModelNews>
}

export interface ModelTopics extends TypedEventTarget<ModelTopicsEvents> {
  /** Hears `model`'s news from now on; false when this peer is in MAX_MODEL_TOPICS topics already. */
  join(model: string): boolean
  leave(model: string): void
  joined(): string[]
  /**
   * Publishes now, or at this peer's next turn on the topic (the latest data wins), joining the topic
   * first: 'sent' or 'held'.
   */
  publish(model: string, data: Uint8Array): Promise<'sent' | 'held' | 'refused'>
  /** How long this peer waits between two messages on `model`'s topic now. */
  intervalMs(model: string): number
  /** Peers known to hear `model`'s topic. */
  subscribers(model: string): PeerId[]
}

export interface ModelTopicsInit {
  /** A topic's interval with one publisher: the network's heartbeat; default 2 s. */
  baseMs?: number
  /** Messages a second a topic carries; default TOPIC_BUDGET_PER_SEC. */
  budgetPerSec?: number
  /** Every interval this many times shorter (the simulation's clock); default 1. */
  speedup?: number
}

export interface StartableModelTopics extends ModelTopics {
  start(): void
  stop(): void
}

/** The topic of `model` in this network: its name hashed, so a topic id says nothing of the model. */
export function modelTopic(identity: NetworkIdentity, model: string): string {
  return identity.protocol(`model/${createHash('sha256').update(model).digest('hex').slice(0, 32)}`)
}

/** The prefix every model topic of this network starts with. */
export const modelTopicPrefix = (identity: NetworkIdentity) => identity.protocol('model/')

interface TopicState {
  model: string
  topic: string
  /** When messages were seen (own included), over the last WINDOW_INTERVALS intervals. */
  seen: number[]
  intervalMs: number
  lastSent: number
  pending?: Uint8Array
  timer?: NodeJS.Timeout
  /** Inbound tokens left, refilled at twice the budget. */
  tokens: number
  refilled: number
}

const VERDICTS: Record<GossipVerdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  reject: TopicValidatorResult.Reject,
  ignore: TopicValidatorResult.Ignore,
}

class DefaultModelTopics extends TypedEventEmitter<ModelTopicsEvents> implements StartableModelTopics {
  readonly #byTopic = new Map<string, TopicState>()
  readonly #byModel = new Map<string, TopicState>()
  readonly #gossip: GossipSubClass
  readonly #identity: NetworkIdentity
  readonly #peers: PeerBook
  readonly #baseMs: number
  readonly #budget: number
  readonly #scale: number
  #running = false

  constructor(gossip: GossipSub, identity: NetworkIdentity, peers: PeerBook, init: ModelTopicsInit) {
    super()
    this.#gossip = gossip as GossipSubClass
    this.#identity = identity
    this.#peers = peers
    this.#scale = init.speedup ?? 1
    this.#baseMs = (init.baseMs ?? 2_000) / this.#scale
    this.#budget = init.budgetPerSec ?? TOPIC_BUDGET_PER_SEC
  }

  start(): void {
    this.#running = true
    this.#gossip.addEventListener('gossipsub:message', this.#onMessage)
  }

  stop(): void {
    this.#running = false
    this.#gossip.removeEventListener('gossipsub:message', this.#onMessage)
    for (const model of [...this.#byModel.keys()]) this.leave(model)
  }

  join(model: string): boolean {
    if (this.#byModel.has(model)) return true
    if (!this.#running || this.#byModel.size >= MAX_MODEL_TOPICS) return false
    const topic = modelTopic(this.#identity, model)
    const now = Date.now()
    const state: TopicState = {
      model,
      topic,
      seen: [],
      intervalMs: this.#baseMs,
      lastSent: 0,
      tokens: this.#burst(),
      refilled: now,
    }
    this.#byModel.set(model, state)
    this.#byTopic.set(topic, state)
    this.#gossip.topicValidators.set(topic, async (relayer) => {
      if (!this.#take(state)) return TopicValidatorResult.Ignore
      return (await this.#peers.whenVerified(relayer))
        ? TopicValidatorResult.Accept
        : TopicValidatorResult.Ignore
    })
    this.#gossip.subscribe(topic)
    return true
  }

  leave(model: string): void {
    const state = this.#byModel.get(model)
    if (state === undefined) return
    clearTimeout(state.timer)
    this.#byModel.delete(model)
    this.#byTopic.delete(state.topic)
    this.#gossip.unsubscribe(state.topic)
    this.#gossip.topicValidators.delete(state.topic)
  }

  joined(): string[] {
    return [...this.#byModel.keys()]
  }

  async publish(model: string, data: Uint8Array): Promise<'sent' | 'held' | 'refused'> {
    if (!this.join(model)) return 'refused'
    const state = this.#byModel.get(model)!
    const wait = state.lastSent + this.#interval(state) - Date.now()
    if (wait > 0) {
      state.pending = data
      state.timer ??= setTimeout(() => this.#flush(state), wait)
      return 'held'
    }
    await this.#send(state, data)
    return 'sent'
  }

  intervalMs(model: string): number {
    const state = this.#byModel.get(model)
    return state === undefined ? this.#baseMs : this.#interval(state)
  }

  subscribers(model: string): PeerId[] {
    return this.#gossip.getSubscribers(modelTopic(this.#identity, model))
  }

  #flush(state: TopicState): void {
    state.timer = undefined
    const data = state.pending
    state.pending = undefined
    if (data === undefined || this.#byModel.get(state.model) !== state) return
    this.#send(state, data).catch(() => {})
  }

  async #send(state: TopicState, data: Uint8Array): Promise<void> {
    state.lastSent = Date.now()
    this.#saw(state, state.lastSent)
    const floodPublish = floodsTo(this.#gossip.getSubscribers(state.topic).length)
    await this.#gossip.publish(state.topic, data, { floodPublish })
  }

  /** The interval for the publishers the topic's recent traffic shows. */
  #interval(state: TopicState): number {
    const now = Date.now()
    const windowMs = WINDOW_INTERVALS * state.intervalMs
    while (state.seen.length > 0 && state.seen[0]! < now - windowMs) state.seen.shift()
    const publishers = publishersSeen(state.seen.length, windowMs, state.intervalMs)
    const paced = publishIntervalMs({
      baseMs: this.#baseMs * this.#scale,
      publishers,
      budgetPerSec: this.#budget,
    })
    state.intervalMs = paced / this.#scale
    return state.intervalMs
  }

  #saw(state: TopicState, at: number): void {
    state.seen.push(at)
    // Bounded by the inbound cap; this only guards a stalled window.
    if (state.seen.length > 4 * this.#burst() * WINDOW_INTERVALS) state.seen.shift()
  }

  #burst(): number {
    return 4 * this.#budget
  }

  /** One inbound message's token; none left: the topic is over twice its budget, the message goes no further. */
  #take(state: TopicState): boolean {
    const now = Date.now()
    const rate = (2 * this.#budget * this.#scale) / 1000
    state.tokens = Math.min(this.#burst(), state.tokens + (now - state.refilled) * rate)
    state.refilled = now
    if (state.tokens < 1) return false
    state.tokens -= 1
    this.#saw(state, now)
    return true
  }

  readonly #onMessage = (evt: CustomEvent<GossipsubMessage>) => {
    const { msg, msgId, propagationSource } = evt.detail
    const state = this.#byTopic.get(msg.topic)
    if (state === undefined) return
    let given = false
    const verdict = (result: GossipVerdict) => {
      if (given) return
      given = true
      this.#gossip.reportMessageValidationResult(msgId, propagationSource.toString(), VERDICTS[result])
    }
    // Nobody to check what it carries: it goes no further.
    if (this.listenerCount('news') === 0) verdict('ignore')
    else
      this.safeDispatchEvent('news', {
        detail: { model: state.model, data: msg.data, from: propagationSource, verdict },
      })
  }
}

export function createModelTopics(
  gossip: GossipSub,
  identity: NetworkIdentity,
  peers: PeerBook,
  init: ModelTopicsInit = {},
): StartableModelTopics {
  return new DefaultModelTopics(gossip, identity, peers, init)
}
