/** Mesh: the network, every peer as a node of a graph around this one, and a card per peer with its hardware and load. */
import { css, html, nothing, svg } from 'lit'
import type { ApiPeer, LoadSample } from '../../../host/api/contract/index.ts'
import { gapText, statementText } from '../../../host/interface/version-gap.ts'
import { ago, bytes, short } from '../format.ts'
import { LivePage } from '../live-page.ts'
import { shared } from '../styles.ts'

const STATUS_COLOUR = { online: '#1f9d4c', stale: '#d69200', offline: '#c43131' } as const

export class MeshPage extends LivePage {
  static override styles = [
    shared,
    css`
      .graph {
        width: 100%;
        max-width: 560px;
        height: auto;
        display: block;
        margin: 0 auto;
      }
      .peer header {
        display: flex;
        justify-content: space-between;
        align-items: baseline;
        gap: 8px;
      }
      .peer h3 {
        margin: 0;
        overflow-wrap: anywhere;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 2px 12px;
        margin: 8px 0;
      }
      dt {
        color: #5b6478;
      }
      dd {
        margin: 0;
      }
      .spark {
        width: 100%;
        height: 48px;
        background: #f7f9fc;
        border-radius: 6px;
      }
    `,
  ]

  override render() {
    const status = this.store?.status
    const peers = this.store?.peers?.peers ?? []
    return html`
      <h2>Mesh</h2>
      <p class="lead">
        Network <b>${status?.network ?? '…'}</b>
        <span class="muted">id <code title=${status?.network_id ?? ''}>${short(status?.network_id ?? '', 16)}</code></span>
        · ${peers.filter((p) => p.status === 'online').length} of ${peers.length} peers online
        ${this.#counts()}
      </p>
      ${peers.length <= 1 ? this.#alone() : nothing}
      <div class="card">${this.#graph(peers)}</div>
      <div class="grid">${peers.map((p) => this.#card(p))}</div>
    `
  }

  #alone() {
    return html`<div class="empty card">
      Only this peer is here. To add a second machine, run
      <code>ripple invite create</code> here, copy the file it writes to that machine, and start it with
      <code>ripple up --join-file ripple-invite-&lt;id&gt;.json</code>.
    </div>`
  }

  /** In a big mesh, the feed carries its first page: how many members there are, and how many are shown. */
  #counts() {
    const reply = this.store?.peers
    if (reply?.total === undefined) return nothing
    const shown =
      reply.total > reply.peers.length
        ? html` · showing ${reply.peers.length} of ${reply.total} known (ripple peers --page)`
        : nothing
    return html` · ${reply.members} members${shown}`
  }

  #graph(peers: ApiPeer[]) {
    const self = peers.find((p) => p.self)
    const others = peers.filter((p) => !p.self)
    const cx = 280
    const cy = 150
    const r = 110
    const at = (i: number) => {
      const angle = (2 * Math.PI * i) / Math.max(others.length, 1) - Math.PI / 2
      return { x: cx + r * Math.cos(angle) * 1.6, y: cy + r * Math.sin(angle) }
    }
    const node = (p: ApiPeer, x: number, y: number) => svg`
      <g data-agent=${p.agent}>
        <circle cx=${x} cy=${y} r=${p.self ? 30 : 25} fill=${STATUS_COLOUR[p.status]} opacity="0.9"></circle>
        <text x=${x} y=${y + (p.self ? 48 : 43)} text-anchor="middle" font-size="13" fill="#1d2433">${p.name ?? short(p.agent)}${p.self ? ' (this peer)' : ''}</text>
        <text x=${x} y=${y + 4} text-anchor="middle" font-size="11" fill="#fff" font-weight="600">${p.status}</text>
      </g>`
    return html`<svg class="graph" viewBox="0 0 560 310" role="img" aria-label="peers of the mesh">
      ${others.map((p, i) => {
        const { x, y } = at(i)
        return svg`<line x1=${cx} y1=${cy} x2=${x} y2=${y} stroke=${p.status === 'offline' ? '#e3b5b5' : '#9fb3d9'} stroke-width="2" stroke-dasharray=${p.status === 'online' ? '' : '6 5'}></line>`
      })}
      ${others.map((p, i) => {
        const { x, y } = at(i)
        return node(p, x, y)
      })}
      ${self ? node(self, cx, cy) : nothing}
    </svg>`
  }

  #card(peer: ApiPeer) {
    const cap = peer.capability
    const hw = cap?.hardware
    const history = this.store?.peers?.history[peer.agent] ?? []
    return html`<section class="card peer" data-agent=${peer.agent} data-status=${peer.status}>
      <header>
        <h3>${peer.name ?? short(peer.agent)}${peer.self ? html` <span class="muted">(this peer)</span>` : nothing}</h3>
        <span class="badge ${peer.status}">${peer.status}</span>
      </header>
      <div class="muted mono" title=${peer.agent}>${short(peer.agent, 20)}</div>
      ${
        hw
          ? html`<dl>
              <dt>CPU</dt>
              <dd class="cpu">${hw.cpu.model} · ${hw.cpu.cores} cores / ${hw.cpu.threads} threads</dd>
              <dt>RAM</dt>
              <dd class="ram">${bytes(hw.ram_bytes)}</dd>
              <dt>GPUs</dt>
              <dd class="gpus">
                ${hw.gpus.length === 0 ? 'none' : hw.gpus.map((g) => html`<div>${g.vendor} ${g.model} · ${bytes(g.vram_bytes)} VRAM</div>`)}
              </dd>
              <dt>OS</dt>
              <dd>${hw.os.distro} ${hw.os.release}</dd>
              <dt>Heartbeat</dt>
              <dd>${ago(peer.last_heartbeat_ms_ago)}${peer.load ? ` · queue ${peer.load.queue_depth}` : ''}</dd>
              <dt>Release</dt>
              <dd class="release">${this.#release(peer)}</dd>
            </dl>`
          : html`<p class="muted">Capability not received yet.</p>`
      }
      ${this.#spark(history)}
      <div>
        ${(cap?.inference.models ?? []).map(
          (m) =>
            html`<span class="badge ${m.loaded ? 'loaded' : ''}" title=${m.file_hash}>${m.name}${m.loaded ? ' · loaded' : ''}</span>`,
        )}
        ${cap && cap.inference.models.length === 0 ? html`<span class="muted">no models</span>` : nothing}
      </div>
      <div>${(cap?.tags ?? []).map((t) => html`<span class="badge">#${t}</span>`)}</div>
      ${peer.warrant ? html`<div class="error">Warranted: ${peer.warrant.rule}: ${peer.warrant.reason}</div>` : nothing}
    </section>`
  }

  /** Its release, and what this peer's differs in (who should upgrade), as `ripple peers` says it. */
  #release(peer: ApiPeer) {
    if (!peer.release) return html`<span class="muted">not met yet</span>`
    const own = this.store?.status?.release
    const gap = own && !peer.self ? gapText(peer.name ?? short(peer.agent), own, peer.release) : null
    return html`<span title=${statementText(peer.release)}>Ripple ${peer.release.release}</span>${
      // The releases work together (the mesh writes only what every member reads): a notice, not an error.
      gap === null ? nothing : html`<div class="notice">${gap}</div>`
    }`
  }

  #spark(samples: LoadSample[]) {
    if (samples.length < 2) return html`<div class="muted">CPU load: collecting…</div>`
    const first = samples[0]!.timestamp
    const span = Math.max(samples.at(-1)!.timestamp - first, 1)
    const points = (pick: (s: LoadSample) => number) =>
      samples.map((s) => `${((s.timestamp - first) / span) * 300},${48 - (pick(s) / 100) * 44 - 2}`).join(' ')
    const last = samples.at(-1)!
    const minutes = Math.max(1, Math.round(span / 60e6))
    return html`<div class="muted">
        CPU ${last.cpu_pct.toFixed(0)}% · RAM ${last.ram_pct.toFixed(0)}%${last.gpu_pct === null ? '' : ` · GPU ${last.gpu_pct.toFixed(0)}%`}
        <span style="float:right">last ${minutes} min</span>
      </div>
      <svg class="spark" viewBox="0 0 300 48" preserveAspectRatio="none" aria-label="CPU and RAM load">
        <polyline points=${points((s) => s.ram_pct)} fill="none" stroke="#9fb3d9" stroke-width="1.5"></polyline>
        <polyline points=${points((s) => s.cpu_pct)} fill="none" stroke="#2f5bd3" stroke-width="2"></polyline>
      </svg>`
  }
}
customElements.define('mesh-page', MeshPage)
