/** Models: this peer's models directory (load and unload with progress), every model of the mesh by peer, and the aliases. */
import { css, html, nothing } from 'lit'
import { keepAliveText } from '../../../host/interface/keep-alive-text.ts'
import { progressFraction } from '../../../host/interface/progress.ts'
import { formatDuration } from '../../../host/text/duration-text.ts'
import { bytes, count, duration, short } from '../format.ts'
import { LivePage } from '../live-page.ts'
import { shared } from '../styles.ts'
import './aliases-card.ts'

export class ModelsPage extends LivePage {
  static override properties = {
    ...LivePage.properties,
    progress: { state: true },
    message: { state: true },
    pulling: { state: true },
  }
  /** A pull under way: bytes so far of the total (0 while unknown). */
  declare pulling: { source: string; downloaded: number; total: number } | null
  /** Load progress by model name (0..1) while a load runs. */
  declare progress: Record<string, number>
  declare message: { text: string; error: boolean } | null

  constructor() {
    super()
    this.progress = {}
    this.message = null
    this.pulling = null
  }

  static override styles = [shared, css``]

  // A loaded model's idle time and unload countdown move every second, between the feed's news.
  #tick: ReturnType<typeof setInterval> | undefined

  override connectedCallback(): void {
    super.connectedCallback()
    this.#tick = setInterval(() => {
      if (this.store?.models?.models.some((m) => m.loaded)) this.requestUpdate()
    }, 1000)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearInterval(this.#tick)
  }

  override render() {
    const local = this.store?.models
    return html`
      <h2>Models</h2>
      <p class="lead">GGUF models on this peer and across the mesh. A model loads on first use, or here ahead of time.</p>
      ${this.message ? html`<p class=${this.message.error ? 'error' : 'muted'}>${this.message.text}</p>` : nothing}
      <section class="card">
        <h3>On this peer</h3>
        ${this.#engine()}
        ${
          !local
            ? html`<p class="muted">Loading…</p>`
            : local.models.length === 0
              ? html`<div class="empty">No model here. Copy a <code>.gguf</code> file into
                  <code>${this.store?.status?.models_dir ?? '<data-dir>/models'}</code>; it is listed here and advertised to the mesh
                  as soon as its copy completes.</div>`
              : html`<table>
                  <tr><th>Name</th><th>Size</th><th>Parameters</th><th>Quant</th><th>Context</th><th>State</th><th></th></tr>
                  ${local.models.map(
                    (m) => html`<tr class="model" data-model=${m.name}>
                      <td><b>${m.name}</b><div class="muted mono" title=${m.sha256}>${short(m.sha256)}</div></td>
                      <td>${bytes(m.size_bytes)}</td>
                      <td>${count(m.parameters)}</td>
                      <td>${m.quantisation ?? '-'}</td>
                      <td>${m.context_length}</td>
                      <td>${
                        this.progress[m.name] !== undefined
                          ? html`<progress max="1" value=${this.progress[m.name]!}></progress>`
                          : html`<span class="badge ${m.loaded ? 'loaded' : ''}">${m.loaded ? 'loaded' : 'on disk'}</span>${
                              m.loaded
                                ? html`<div class="muted keep-alive">${keepAliveText(m, formatDuration)}</div>`
                                : nothing
                            }`
                      }</td>
                      <td>${
                        m.loaded
                          ? html`<button class="secondary" @click=${() => this.#unload(m.name)}>Unload</button>`
                          : html`<button ?disabled=${this.progress[m.name] !== undefined} @click=${() => this.#load(m.name)}>Load</button>`
                      }</td>
                    </tr>`,
                  )}
                </table>`
        }
        ${(local?.unusable ?? []).map((u) => html`<p class="error">Unusable: <code>${u.path}</code>: ${u.reason}</p>`)}
        ${this.#workerShares()}
        ${(local?.splits ?? []).map(
          (split) => html`<p class="split" data-split=${split.model}>
            <b>${split.model}</b> split over ${split.peers.length} peers (this one heads it):
            ${split.peers.map((p) => html`<span class="badge" data-agent=${p.agent}>${this.peerName(p.agent)} · ${p.layers} layers · ${bytes(p.bytes)}</span> `)}
          </p>`,
        )}
      </section>
      ${this.#pullForm()}
      <section class="card">
        <h3>Across the mesh</h3>
        ${this.#peerModels()}
      </section>
      <model-aliases .store=${this.store}></model-aliases>
    `
  }

  /** Layers this peer holds for another peer's split (its RPC worker serves them). */
  #workerShares() {
    const self = this.store?.status?.agent
    const shares = (this.store?.peers?.peers ?? []).flatMap((head) =>
      head.agent === self || head.status === 'offline'
        ? []
        : (head.load?.splits ?? []).flatMap((split) =>
            split.peers
              .filter((p) => p.agent === self)
              .map((p) => ({ model: split.model, head: head.agent, layers: p.layers, bytes: p.bytes })),
          ),
    )
    return shares.map(
      (s) => html`<p class="split worker-share" data-split=${s.model}>
        This peer holds <b>${s.layers} layers</b> (${bytes(s.bytes)}) of <b>${s.model}</b> for
        <b>${this.peerName(s.head)}</b>, which heads its split.
      </p>`,
    )
  }

  /** The backend the engine runs on here, and why each GPU backend does not (with the fix). */
  #engine() {
    const engine = this.store?.status?.engine
    if (engine === undefined) return nothing
    if (engine === null)
      return html`<p class="error engine">Engine not built: run <code>bash scripts/build-engine.sh</code>.</p>`
    return html`<div class="engine">
      <p>Engine: llama.cpp <code>${engine.engine_build}</code> on <span class="badge loaded">${engine.backend}</span></p>
      ${engine.backends
        .filter((b) => b.id !== engine.backend && b.state !== 'standby')
        .map(
          (b) =>
            html`<p class="muted" data-backend=${b.id}>${b.id}: ${b.state}${b.detail ? `: ${b.detail}` : ''}${
              b.fix ? html` <b>Fix:</b> ${b.fix}` : nothing
            }</p>`,
        )}
    </div>`
  }

  #pullForm() {
    return html`<section class="card">
      <h3>Pull a model</h3>
      <form class="pull" @submit=${(e: Event) => this.#pull(e)}>
        <div class="row">
          <label>Source <input name="source" size="56" required placeholder="hf:owner/repo:Q4_K_M, hf:owner/repo/file.gguf or https://…/model.gguf" /></label>
          <label>Name <input name="name" size="16" placeholder="(from the file)" /></label>
          <button type="submit" ?disabled=${this.pulling !== null}>${this.pulling ? 'Pulling…' : 'Pull'}</button>
        </div>
      </form>
      ${
        this.pulling
          ? html`<p class="muted">${this.pulling.source}: ${bytes(this.pulling.downloaded)}${this.pulling.total ? ` of ${bytes(this.pulling.total)}` : ''}
              <progress max="1" value=${this.pulling.total ? this.pulling.downloaded / this.pulling.total : 0}></progress></p>`
          : nothing
      }
    </section>`
  }

  #peerModels() {
    const rows = new Map<string, { peer: string; loaded: boolean; status: string }[]>()
    // Where a head runs a model split over peers (its heartbeat says so): which peers, how many layers.
    const splits = new Map<string, { agent: string; layers: number; bytes: number }[]>()
    for (const peer of this.store?.peers?.peers ?? []) {
      if (peer.status === 'offline') continue
      for (const split of peer.load?.splits ?? []) splits.set(split.model, split.peers)
    }
    for (const peer of this.store?.peers?.peers ?? []) {
      for (const m of peer.capability?.inference.models ?? []) {
        rows.set(m.name, [
          ...(rows.get(m.name) ?? []),
          { peer: peer.name ?? short(peer.agent), loaded: m.loaded, status: peer.status },
        ])
      }
    }
    if (rows.size === 0) return html`<div class="empty">No peer advertises a model yet.</div>`
    return html`<table>
      <tr><th>Model</th><th>Held by</th><th>Split over</th></tr>
      ${[...rows].map(
        ([name, holders]) => html`<tr data-model=${name}>
          <td><b>${name}</b></td>
          <td>${holders.map((h) => html`<span class="badge ${h.status === 'offline' ? 'offline' : h.loaded ? 'loaded' : ''}">${h.peer}${h.loaded ? ' · loaded' : ''}${h.status === 'online' ? '' : ` · ${h.status}`}</span>`)}</td>
          <td class="split-over">${(splits.get(name) ?? []).map((p, i) => html`<span class="badge" data-agent=${p.agent}>${this.peerName(p.agent)}${i === 0 ? ' (head)' : ''} · ${p.layers} layers · ${bytes(p.bytes)}</span> `)}</td>
        </tr>`,
      )}
    </table>`
  }

  async #load(name: string): Promise<void> {
    this.progress = { ...this.progress, [name]: 0 }
    this.message = null
    try {
      const loaded = await this.store!.client.loadModel(name, {
        onProgress: (progress) => {
          this.progress = { ...this.progress, [name]: progressFraction(progress) ?? 0 }
        },
      })
      this.message = {
        text: `${name} loaded in ${duration(loaded.load_ms)} (${loaded.threads} threads, context ${loaded.context_size}).`,
        error: false,
      }
    } catch (err) {
      this.message = { text: (err as Error).message, error: true }
    }
    const { [name]: _, ...rest } = this.progress
    this.progress = rest
  }

  /** Downloads into this peer's models directory, checked before it is advertised. */
  async #pull(event: Event): Promise<void> {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const data = new FormData(form)
    const source = String(data.get('source') ?? '').trim()
    const name = String(data.get('name') ?? '').trim()
    this.pulling = { source, downloaded: 0, total: 0 }
    this.message = null
    try {
      const pulled = await this.store!.client.pullModel(
        { source, ...(name ? { name } : {}) },
        {
          onProgress: (p) => {
            this.pulling = { source, downloaded: p.done, total: p.total ?? 0 }
          },
        },
      )
      this.message = {
        text: `${pulled.model.name} pulled (${bytes(pulled.model.size_bytes)}), checked and advertised.`,
        error: false,
      }
      form.reset()
    } catch (err) {
      this.message = { text: (err as Error).message, error: true }
    }
    this.pulling = null
  }

  async #unload(name: string): Promise<void> {
    try {
      await this.store!.client.unloadModel(name)
      this.message = { text: `${name} unloaded.`, error: false }
    } catch (err) {
      this.message = { text: (err as Error).message, error: true }
    }
  }
}
customElements.define('models-page', ModelsPage)
