/** Models: this peer's models directory (load and unload with progress) and every model of the mesh by peer. */
import { css, html, nothing } from 'lit'
import { bytes, count, duration, short } from '../format.ts'
import { LivePage } from '../live-page.ts'
import { shared } from '../styles.ts'

export class ModelsPage extends LivePage {
  static override properties = {
    ...LivePage.properties,
    progress: { state: true },
    message: { state: true },
  }
  /** Load progress by model name (0..1) while a load runs. */
  declare progress: Record<string, number>
  declare message: { text: string; error: boolean } | null

  constructor() {
    super()
    this.progress = {}
    this.message = null
  }

  static override styles = [shared, css``]

  override render() {
    const local = this.store?.models
    return html`
      <h2>Models</h2>
      <p class="lead">GGUF models on this peer and across the mesh. A model loads on first use, or here ahead of time.</p>
      ${this.message ? html`<p class=${this.message.error ? 'error' : 'muted'}>${this.message.text}</p>` : nothing}
      <section class="card">
        <h3>On this peer</h3>
        ${
          !local
            ? html`<p class="muted">Loading…</p>`
            : local.models.length === 0
              ? html`<div class="empty">No model here. Copy a <code>.gguf</code> file into
                  <code>${this.store?.status?.models_dir ?? '<data-dir>/models'}</code>; it is listed here and advertised to the mesh
                  within 30 seconds.</div>`
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
                          : html`<span class="badge ${m.loaded ? 'loaded' : ''}">${m.loaded ? 'loaded' : 'on disk'}</span>`
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
      </section>
      <section class="card">
        <h3>Across the mesh</h3>
        ${this.#mesh()}
      </section>
    `
  }

  #mesh() {
    const rows = new Map<string, { peer: string; loaded: boolean; status: string }[]>()
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
      <tr><th>Model</th><th>Held by</th></tr>
      ${[...rows].map(
        ([name, holders]) => html`<tr>
          <td><b>${name}</b></td>
          <td>${holders.map((h) => html`<span class="badge ${h.status === 'offline' ? 'offline' : h.loaded ? 'loaded' : ''}">${h.peer}${h.loaded ? ' · loaded' : ''}${h.status === 'online' ? '' : ` · ${h.status}`}</span>`)}</td>
        </tr>`,
      )}
    </table>`
  }

  async #load(name: string): Promise<void> {
    this.progress = { ...this.progress, [name]: 0 }
    this.message = null
    try {
      const loaded = await this.store!.client.loadModel(name, {
        onProgress: (fraction) => {
          this.progress = { ...this.progress, [name]: fraction }
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
