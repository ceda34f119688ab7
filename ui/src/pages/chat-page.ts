/**
 * Chat: a playground over the OpenAI-compatible endpoint (`/v1/chat/completions`, streamed, through
 * the typed client), so it answers exactly what an agent pointed at this peer gets. The answer names
 * the record behind it; once it is written the page shows who ran it and what they signed: the
 * runner's Answer and this peer's Served record for a request routed straight to its runner, or the
 * Result a task's Receipt accepted (with each peer's vote when fanned out).
 */
import { css, html, nothing } from 'lit'
import type { ServedView, TaskView } from '../../../host/api/contract/index.ts'
import { Sha256HexSchema } from '../../../zomes-bindings/index.ts'
import { duration, short } from '../format.ts'
import { LivePage } from '../live-page.ts'
import { shared } from '../styles.ts'

interface Answer {
  prompt: string
  model: string
  task: string
  /** The peer that ran it, from the endpoint's `x-ripple-peer` header. */
  peer: string
  streamed: string
  /** A thinking model's reasoning, apart from its answer (streamed before it). */
  reasoning: string
  /** Why the answer ended (`length`: max tokens ran out), once it has. */
  finish: string | null
  signed: Signed | null
  /** The task's view, for a fanned-out request (its votes). */
  view: TaskView | null
  error: string | null
}

/** What the runner signed for an answer, and whether this peer's record accepted it. */
interface Signed {
  /** A fanned-out task's Result, or the runner's batch a direct request was signed in. */
  kind: 'batch' | 'Result'
  author: string
  hash: string
  metrics: { duration_ms: number; tokens_out: number | null; tokens_per_second: number | null }
  output_hash: string
  fileHash: string | null
  text: string | null
  accepted: boolean
  reason: string
}

function signedOfView(view: TaskView): Signed | null {
  const receipt = view.state.receipt?.entry
  const chosen = view.state.results.find((r) => r.action_hash === receipt?.result)
  if (!receipt || !chosen) return null
  const output = view.payloads.outputs[chosen.action_hash] as
    | { text?: unknown; model?: { file_hash?: unknown } }
    | undefined
  return {
    kind: 'Result',
    author: chosen.author,
    hash: chosen.action_hash,
    metrics: chosen.entry.metrics,
    output_hash: chosen.entry.output_hash,
    fileHash: typeof output?.model?.file_hash === 'string' ? output.model.file_hash : null,
    text: typeof output?.text === 'string' ? output.text : null,
    accepted: receipt.accepted,
    reason: receipt.reason,
  }
}

/** A direct request: the runner's leaf (signed in its batch) and this peer's verdict on it. */
function signedOfServed({ served, checks }: ServedView): Signed | null {
  const proof = served?.leaf.proof
  if (!served || !proof) return null
  const { leaf } = proof
  const durationMs = Math.round((leaf.finished_at - leaf.started_at) / 1000)
  return {
    kind: 'batch',
    author: served.leaf.runner,
    hash: proof.batch,
    metrics: {
      duration_ms: durationMs,
      tokens_out: leaf.tokens_out,
      tokens_per_second: durationMs > 0 ? (leaf.tokens_out * 1000) / durationMs : null,
    },
    output_hash: leaf.output_hash,
    fileHash: leaf.model_file_hash,
    text: null,
    accepted: served.leaf.accepted && checks.served?.valid === true,
    reason: served.leaf.reason || (checks.served?.valid === false ? checks.served.reason : ''),
  }
}

export class ChatPage extends LivePage {
  static override properties = {
    ...LivePage.properties,
    model: { state: true },
    fanOut: { state: true },
    answers: { state: true },
    busy: { state: true },
  }
  declare answers: Answer[]
  declare model: string
  declare fanOut: number
  declare busy: boolean

  constructor() {
    super()
    this.busy = false
    this.fanOut = 1
    this.model = ''
    this.answers = []
  }

  static override styles = [
    shared,
    css`
      textarea {
        width: 100%;
        box-sizing: border-box;
        min-height: 72px;
      }
      .answer {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        background: #f7f9fc;
        border-radius: 8px;
        padding: 10px 12px;
        margin: 6px 0;
        font-family: ui-monospace, Menlo, Consolas, monospace;
        font-size: 13px;
      }
      .prompt {
        font-weight: 600;
      }
      .reasoning .thought {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        border-left: 3px solid #d5dbe6;
        padding: 2px 10px;
        margin: 4px 0;
        font-size: 13px;
      }
      .ran-on {
        margin-top: 8px;
      }
    `,
  ]

  /** Every model name the mesh advertises, with how many online peers hold it. */
  #models(): { name: string; holders: number }[] {
    const holders = new Map<string, number>()
    for (const peer of this.store?.peers?.peers ?? []) {
      if (peer.status === 'offline') continue
      for (const m of peer.capability?.inference.models ?? [])
        holders.set(m.name, (holders.get(m.name) ?? 0) + 1)
    }
    return [...holders]
      .map(([name, n]) => ({ name, holders: n }))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  override render() {
    const models = this.#models()
    const model = this.model || models[0]?.name || ''
    return html`
      <h2>Chat</h2>
      <p class="lead">Ask a model of the mesh. The best peer holding it answers, signs its result, and the answer streams here.</p>
      ${
        models.length === 0
          ? html`<div class="empty card">
              No peer of this mesh advertises a model yet. Put a GGUF file in a peer's models directory
              (<code>${this.store?.status?.models_dir ?? '<data-dir>/models'}</code> here) and it is advertised as soon
              as its copy completes; see the Models page.
            </div>`
          : html`<form class="card" @submit=${(e: Event) => this.#send(e, model)}>
              <div class="row">
                <label>Model
                  <select name="model" @change=${(e: Event) => {
                    this.model = (e.target as HTMLSelectElement).value
                  }}>
                    ${models.map((m) => html`<option value=${m.name} ?selected=${m.name === model}>${m.name} (${m.holders} peer${m.holders === 1 ? '' : 's'})</option>`)}
                  </select>
                </label>
                <label>Fan-out
                  <select name="fan-out" @change=${(e: Event) => {
                    this.fanOut = Number((e.target as HTMLSelectElement).value)
                  }}>
                    ${[1, 2, 3, 4, 5].map((n) => html`<option value=${n} ?selected=${n === this.fanOut}>${n === 1 ? 'one peer' : `${n} peers vote`}</option>`)}
                  </select>
                </label>
                <label>Max tokens <input name="max-tokens" type="number" min="1" max="4096" value="64" /></label>
                <label>Temperature <input name="temperature" type="number" min="0" max="2" step="0.1" value="1" /></label>
              </div>
              <p><textarea name="prompt" placeholder="Ask something…" required></textarea></p>
              <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Answering…' : 'Send'}</button>
            </form>`
      }
      ${this.answers.map((a) => this.#answer(a))}
    `
  }

  async #send(event: Event, model: string): Promise<void> {
    event.preventDefault()
    const client = this.store?.client
    if (!client) return
    const form = event.target as HTMLFormElement
    const data = new FormData(form)
    const prompt = String(data.get('prompt') ?? '').trim()
    if (!prompt) return
    this.busy = true
    const answer: Answer = {
      prompt,
      model,
      task: '',
      peer: '',
      streamed: '',
      reasoning: '',
      finish: null,
      signed: null,
      view: null,
      error: null,
    }
    this.answers = [answer, ...this.answers]
    form.reset()
    try {
      const reply = await client.chatCompletion(
        {
          model,
          messages: [{ role: 'user', content: prompt }],
          max_tokens: Number(data.get('max-tokens') || 64),
          // 0 answers greedily: the same prompt, the same answer. Left empty: the APIs' default, 1.
          temperature: Number(data.get('temperature') || 1),
          ripple: { fan_out: this.fanOut },
        },
        // Several peers' answers are weighed before one is chosen: nothing to stream then.
        this.fanOut > 1
          ? {}
          : {
              onDelta: (text) => {
                answer.streamed += text
                this.requestUpdate()
              },
              onReasoning: (text) => {
                answer.reasoning += text
                this.requestUpdate()
              },
            },
      )
      answer.task = reply.task
      answer.peer = reply.peer
      answer.streamed = reply.text
      answer.reasoning = reply.reasoning
      answer.finish = reply.finish_reason
    } catch (err) {
      answer.error = (err as Error).message
    }
    // Answered: the next prompt need not wait for the record (a direct request's is signed at the end
    // of this peer's slot, up to a minute).
    this.busy = false
    this.requestUpdate()
    if (answer.error === null) await this.#fetchSigned(client, answer)
  }

  /** What the runner signed behind an answer: a direct request's leaf, or a task's Result with the Receipt's votes. */
  async #fetchSigned(client: NonNullable<ChatPage['store']>['client'], answer: Answer): Promise<void> {
    try {
      if (Sha256HexSchema.safeParse(answer.task).success)
        answer.signed = signedOfServed(await client.getServed(answer.task))
      else {
        answer.view = await client.getTask(answer.task)
        answer.signed = signedOfView(answer.view)
      }
    } catch (err) {
      answer.error = (err as Error).message
    }
    this.requestUpdate()
  }

  #answer(a: Answer) {
    const state = a.view?.state
    const receipt = state?.receipt?.entry
    const signed = a.signed
    const status = signed ? (signed.accepted ? 'done' : 'failed') : (state?.status ?? null)
    return html`<section class="card chat-answer" data-task=${a.task}>
      <div class="prompt">${a.prompt}</div>
      <div class="muted">model ${a.model}${a.task ? html` · ${Sha256HexSchema.safeParse(a.task).success ? 'request' : 'task'} <code>${short(a.task)}</code>` : nothing}${status ? html` · <span class="badge ${status}">${status}</span>` : nothing}</div>
      ${
        a.reasoning
          ? html`<details class="reasoning" ?open=${!a.streamed && !signed}>
              <summary class="muted">Reasoning</summary>
              <div class="muted thought">${a.reasoning}</div>
            </details>`
          : nothing
      }
      <div class="answer">${
        (signed?.text ?? a.streamed) ||
        (a.reasoning && a.finish === 'length'
          ? html`<span class="muted">No answer: max tokens ran out while it reasoned.</span>`
          : a.reasoning && a.finish !== null && !a.error
            ? html`<span class="muted">No answer: the model stopped while it reasoned.</span>`
            : a.error || a.reasoning
              ? ''
              : '…')
      }</div>
      ${a.error ? html`<div class="error">${a.error}</div>` : nothing}
      ${
        !signed && a.peer
          ? html`<div class="ran-on">Answered by <b class="ran-on-peer">${this.peerName(a.peer)}</b>; ${
              Sha256HexSchema.safeParse(a.task).success
                ? 'its record is signed at the end of this peer’s slot (up to a minute)…'
                : 'fetching what it signed…'
            }</div>`
          : nothing
      }
      ${
        signed
          ? html`<div class="ran-on">
              Ran on <b class="ran-on-peer">${this.peerName(signed.author)}</b>
              <span class="muted mono">${short(signed.author)}</span>
              · ${duration(signed.metrics.duration_ms)}
              ${signed.metrics.tokens_out === null ? nothing : html` · ${signed.metrics.tokens_out} tokens`}
              ${signed.metrics.tokens_per_second === null ? nothing : html` · ${signed.metrics.tokens_per_second.toFixed(1)} tokens/s`}
            </div>
            <div class="muted">
              Signed ${signed.kind} <code title=${signed.hash}>${short(signed.hash, 16)}</code>, output sha256
              <code title=${signed.output_hash}>${short(signed.output_hash, 16)}</code>
              ${signed.fileHash ? html`, model file <code title=${signed.fileHash}>${short(signed.fileHash, 12)}</code>` : nothing};
              ${signed.kind === 'batch' ? 'recorded' : 'receipt'} ${signed.accepted ? html`<span class="badge done">accepted</span>` : html`<span class="badge failed">refused</span>`} ${signed.reason}
            </div>`
          : nothing
      }
      ${receipt && receipt.votes.length > 1 ? this.#votes(receipt.votes) : nothing}
    </section>`
  }

  #votes(votes: NonNullable<TaskView['state']['receipt']>['entry']['votes']) {
    return html`<table class="votes">
      <tr><th>Peer</th><th>Model file</th><th>Group</th><th>Vote</th></tr>
      ${votes.map(
        (v) => html`<tr>
          <td>${this.peerName(v.assignee)}</td>
          <td class="mono">${v.model_file_hash ? short(v.model_file_hash) : '-'}</td>
          <td>${v.group ?? 'no answer'}</td>
          <td><span class="badge ${v.agree ? 'agree' : 'disagree'}">${v.agree ? 'agrees' : 'disagrees'}</span></td>
        </tr>`,
      )}
    </table>`
  }
}
customElements.define('chat-page', ChatPage)
