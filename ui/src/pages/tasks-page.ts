/**
 * Tasks: the live list, a form to submit one, and one task's life as a timeline (claims, assignments,
 * results, receipt with votes, cancellation, policy decisions), or why nobody claims it.
 */
import { css, html, nothing } from 'lit'
import type { TaskSummary, TaskView } from '../../../host/api/contract/index.ts'
import { duration, short, time } from '../format.ts'
import { LivePage } from '../live-page.ts'
import { shared } from '../styles.ts'

const OPEN = new Set(['submitted', 'claimed', 'assigned', 'running'])

/** An input each built-in kind accepts, shown when the kind is picked. */
const EXAMPLES: Record<string, string> = {
  echo: '{"message": "hello mesh"}',
  sha256: '{"data": "hello mesh"}',
  'infer.generate': '{"prompt": "Hello, mesh", "max_tokens": 32}',
  'infer.embed': '{"input": "hello mesh"}',
}

interface Step {
  at: number
  what: string
  detail: unknown
  tone?: string
}

export class TasksPage extends LivePage {
  static override properties = {
    ...LivePage.properties,
    selected: { state: true },
    view: { state: true },
    error: { state: true },
  }
  declare selected: string | null
  declare view: TaskView | null
  declare error: string | null

  constructor() {
    super()
    this.selected = null
    this.view = null
    this.error = null
  }
  /** The summary the open view was fetched for: a new one in the live list means fetch again. */
  #viewedSummary = ''

  static override styles = [
    shared,
    css`
      .layout {
        display: grid;
        grid-template-columns: minmax(320px, 1fr) minmax(360px, 1.3fr);
        gap: 16px;
        align-items: start;
      }
      .list {
        overflow-x: auto;
      }
      tr.task {
        cursor: pointer;
        white-space: nowrap;
      }
      tr.task:hover,
      tr.task.selected {
        background: #eef3ff;
      }
      textarea {
        width: 100%;
        box-sizing: border-box;
        min-height: 60px;
      }
      ol.timeline {
        list-style: none;
        padding: 0;
        margin: 0;
        border-left: 3px solid #dde2ea;
      }
      ol.timeline li {
        padding: 4px 0 10px 14px;
        position: relative;
      }
      ol.timeline li::before {
        content: '';
        position: absolute;
        left: -8px;
        top: 10px;
        width: 13px;
        height: 13px;
        border-radius: 50%;
        background: #9fb3d9;
      }
      ol.timeline li.good::before {
        background: #1f9d4c;
      }
      ol.timeline li.bad::before {
        background: #c43131;
      }
      .when {
        color: #5b6478;
        font-size: 12px;
        margin-right: 6px;
      }
      .output {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        background: #f7f9fc;
        border-radius: 8px;
        padding: 6px 10px;
        font-family: ui-monospace, Menlo, Consolas, monospace;
        font-size: 12px;
        max-height: 160px;
        overflow: auto;
      }
    `,
  ]

  override willUpdate(): void {
    // The live list changed the selected task's summary: fetch its life again.
    const summary = this.store?.tasks?.find((t) => t.action_hash === this.selected)
    const key = summary ? JSON.stringify(summary) : ''
    if (this.selected && key && key !== this.#viewedSummary) {
      this.#viewedSummary = key
      void this.#load(this.selected)
    }
  }

  override render() {
    const tasks = this.store?.tasks
    return html`
      <h2>Tasks</h2>
      <p class="lead">Open tasks of the mesh and those submitted here lately, live.</p>
      <div class="layout">
        <div>
          ${this.#form()}
          <div class="card list">
            ${
              tasks === null || tasks === undefined
                ? html`<p class="muted">Loading…</p>`
                : tasks.length === 0
                  ? html`<div class="empty">No tasks yet. Submit one above, or from a shell:
                      <code>ripple task submit echo --input '{"message":"hi"}' --wait</code></div>`
                  : this.#table(tasks)
            }
          </div>
        </div>
        <div>${this.#detail()}</div>
      </div>
    `
  }

  #form() {
    return html`<form class="card submit" @submit=${(e: Event) => this.#submit(e)}>
      <h3>Submit a task</h3>
      <div class="row">
        <label>Kind
          <select name="kind" @change=${(e: Event) => this.#example(e)}>
            ${Object.keys(EXAMPLES).map((k) => html`<option value=${k}>${k}</option>`)}
          </select>
        </label>
        <label>Fan-out <input name="fan-out" type="number" min="1" max="16" value="1" style="width:5em" /></label>
        <label>Model (optional) <input name="model" placeholder="any" /></label>
      </div>
      <p><textarea name="input" aria-label="input (JSON)">${EXAMPLES.echo}</textarea></p>
      <button type="submit">Submit</button>
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
    </form>`
  }

  #table(tasks: TaskSummary[]) {
    return html`<table>
      <tr><th>Task</th><th>Kind</th><th>Status</th><th>Claims</th><th>Attempts</th><th>Submitted</th></tr>
      ${tasks.map(
        (t) => html`<tr
          class="task ${t.action_hash === this.selected ? 'selected' : ''}"
          data-task=${t.action_hash}
          data-status=${t.status}
          @click=${() => this.#select(t.action_hash)}
        >
          <td class="mono" title=${t.action_hash}>${short(t.action_hash, 10)}</td>
          <td>${t.kind}</td>
          <td><span class="badge ${t.status}">${t.status}</span></td>
          <td>${t.claims}</td>
          <td>${t.attempts}</td>
          <td>${time(t.submitted_at)}</td>
        </tr>`,
      )}
    </table>`
  }

  #example(event: Event): void {
    const select = event.target as HTMLSelectElement
    const input = select.form?.elements.namedItem('input') as HTMLTextAreaElement | null
    if (input) input.value = EXAMPLES[select.value] ?? '{}'
  }

  async #submit(event: Event): Promise<void> {
    event.preventDefault()
    const data = new FormData(event.target as HTMLFormElement)
    this.error = null
    let input: unknown
    try {
      input = JSON.parse(String(data.get('input')))
    } catch {
      this.error = `The input must be JSON, e.g. ${EXAMPLES.echo}.`
      return
    }
    const model = String(data.get('model') ?? '').trim()
    try {
      const ref = await this.store!.client.submitTask({
        kind: String(data.get('kind')),
        input: input as never,
        requirements: model ? { model } : {},
        fan_out: Number(data.get('fan-out') || 1),
      })
      this.#select(ref.action_hash)
    } catch (err) {
      this.error = (err as Error).message
    }
  }

  #select(hash: string): void {
    this.selected = hash
    this.view = null
    this.#viewedSummary = ''
    void this.#load(hash)
  }

  async #load(hash: string): Promise<void> {
    try {
      const view = await this.store!.client.getTask(hash)
      if (this.selected === hash) this.view = view
    } catch (err) {
      this.error = (err as Error).message
    }
  }

  #detail() {
    if (!this.selected)
      return html`<div class="empty">Pick a task to see its whole life: claims, assignments, results, receipt and policy decisions.</div>`
    const view = this.view
    if (!view || view.state.task.action_hash !== this.selected)
      return html`<div class="card muted">Loading ${short(this.selected)}…</div>`
    const { state } = view
    const mine = state.task.author === this.store?.status?.agent
    return html`<section class="card task-detail" data-task=${state.task.action_hash} data-status=${state.status}>
      <header class="row" style="justify-content:space-between">
        <h3>${state.task.entry.kind} <span class="badge ${state.status}">${state.status}</span></h3>
        ${mine && OPEN.has(state.status) ? html`<button class="secondary" @click=${() => this.#cancel(state.task.action_hash)}>Cancel</button>` : nothing}
      </header>
      <div class="muted mono" title=${state.task.action_hash}>${state.task.action_hash}</div>
      <div class="muted">by ${this.peerName(state.task.author)} · fan-out ${state.task.entry.fan_out} · up to ${state.task.entry.max_attempts} attempts · lease ${duration(state.task.entry.lease_ms)}</div>
      ${view.why_unclaimed ? html`<p class="error why-unclaimed">Nobody claims it: ${view.why_unclaimed}</p>` : nothing}
      <ol class="timeline">
        ${this.#steps(view).map(
          (s) =>
            html`<li class=${s.tone ?? ''}><span class="when">${time(s.at)}</span><b>${s.what}</b> ${s.detail}</li>`,
        )}
      </ol>
    </section>`
  }

  /** A result's output where this peer holds it (the task's two parties), else its hash. */
  #output(view: TaskView, r: TaskView['state']['results'][number]) {
    const output = view.payloads.outputs[r.action_hash]
    if (output !== undefined) return html`<div class="output">${JSON.stringify(output)}</div>`
    if (r.entry.output_cid !== null)
      return html`<div class="muted">output sealed on IPFS at ${r.entry.output_cid}; only the requester and the assignee hold the key</div>`
    return html`<div class="muted">output private to the requester and the assignee (sha256 ${r.entry.output_hash.slice(0, 12)}…)</div>`
  }

  #steps(view: TaskView): Step[] {
    const { state } = view
    const steps: Step[] = [
      {
        at: state.task.timestamp,
        what: 'Submitted',
        detail:
          view.payloads.input === null
            ? html`<span class="muted">input private to the requester and its assignees (sha256 ${state.task.entry.input_hash.slice(0, 12)}…)</span>`
            : html`<div class="output">${JSON.stringify(view.payloads.input)}</div>`,
      },
    ]
    for (const c of state.claims) {
      const s = c.entry.snapshot
      steps.push({
        at: c.timestamp,
        what: 'Claimed',
        detail: html`by ${this.peerName(c.author)} <span class="muted">(${s.cores} cores, queue ${s.queue_depth})</span>`,
      })
    }
    for (const a of state.assignments) {
      steps.push({
        at: a.timestamp,
        what: `Assigned`,
        detail: html`slot ${a.entry.slot}, attempt ${a.entry.attempt} to ${this.peerName(a.entry.assignee)} <span class="muted">lease until ${time(a.entry.lease_expires_at)}</span>`,
      })
    }
    for (const r of state.results) {
      const ok = r.entry.status === 'ok'
      steps.push({
        at: r.timestamp,
        what: ok ? 'Result' : 'Failed attempt',
        tone: ok ? 'good' : 'bad',
        detail: html`signed by ${this.peerName(r.author)} · ${duration(r.entry.metrics.duration_ms)}
          ${ok ? this.#output(view, r) : html`<div class="error">${r.entry.error}</div>`}`,
      })
    }
    const receipt = state.receipt
    if (receipt) {
      const e = receipt.entry
      steps.push({
        at: receipt.timestamp,
        what: 'Receipt',
        tone: e.accepted ? 'good' : 'bad',
        detail: html`<span class="receipt">${e.accepted ? 'accepted' : 'refused'}: ${e.reason}</span>
          <span class="muted">· ${duration(e.usage.duration_ms)}${e.usage.tokens === null ? '' : ` · ${e.usage.tokens} tokens`}</span>
          ${e.votes.length > 1 ? html`<div>${e.votes.map((v) => html`<span class="badge ${v.agree ? 'agree' : 'disagree'}">${this.peerName(v.assignee)} ${v.agree ? 'agrees' : 'disagrees'}</span>`)}</div>` : nothing}`,
      })
    }
    if (state.cancellation)
      steps.push({
        at: state.cancellation.timestamp,
        what: 'Cancelled',
        tone: 'bad',
        detail: state.cancellation.entry.reason,
      })
    for (const d of view.decisions) {
      steps.push({
        at: d.timestamp,
        what: `Policy ${d.entry.allowed ? 'allowed' : 'denied'}`,
        tone: d.entry.allowed ? '' : 'bad',
        detail: html`${d.entry.action} of ${this.peerName(d.entry.subject)}, decided by ${this.peerName(d.author)}: ${d.entry.reason}`,
      })
    }
    return steps.sort((a, b) => a.at - b.at)
  }

  async #cancel(hash: string): Promise<void> {
    try {
      await this.store!.client.cancelTask(hash)
      await this.#load(hash)
    } catch (err) {
      this.error = (err as Error).message
    }
  }
}
customElements.define('tasks-page', TasksPage)
