/**
 * Artifacts: every file the mesh keeps on IPFS by CID, with where it came from (a task's signed
 * Result, a model, or added by hand), the replication it asked for and the peers that hold it now;
 * pin or release it on this peer. Updated by the live stream.
 */
import { css, html, nothing } from 'lit'
import type { ArtifactView } from '../../../host/api/contract/index.ts'
import { bytes, short, time } from '../format.ts'
import { LivePage } from '../live-page.ts'
import { shared } from '../styles.ts'

export class ArtifactsPage extends LivePage {
  static override properties = {
    ...LivePage.properties,
    busy: { state: true },
    message: { state: true },
  }
  /** The CID a pin or unpin is running for. */
  declare busy: string | null
  declare message: { text: string; error: boolean } | null

  constructor() {
    super()
    this.busy = null
    this.message = null
  }

  static override styles = [
    shared,
    css`
      .holders span {
        margin-right: 6px;
        white-space: nowrap;
      }
      .holders .gone {
        color: #98a2b3;
        text-decoration: line-through;
      }
      td.cid {
        max-width: 260px;
        overflow-wrap: anywhere;
      }
    `,
  ]

  override render() {
    const artifacts = this.store?.artifacts
    return html`
      <h2>Artifacts</h2>
      <p class="lead">Files the mesh keeps on IPFS by content address: the same bytes always have the same CID, and every
        artifact says where it came from. Peers keep each at its replication by themselves.</p>
      ${this.message ? html`<p class="message ${this.message.error ? 'error' : 'muted'}">${this.message.text}</p>` : nothing}
      <section class="card">
        ${
          artifacts === null || artifacts === undefined
            ? html`<p class="muted">${this.store?.connected ? 'This peer runs without artifacts (a Holochain-backed network needs --ipfs kubo).' : 'Loading…'}</p>`
            : artifacts.length === 0
              ? html`<div class="empty">No artifact yet. Add a file with <code>ripple artifact add &lt;file&gt; --replication 2</code>,
                  or let an agent use the MCP tool <code>add_artifact</code>; task inputs and outputs above 2 MiB land here by themselves.</div>`
              : html`<table>
                  <tr><th>Name</th><th>CID</th><th>Size</th><th>From</th><th>Replication</th><th>Held by</th><th></th></tr>
                  ${artifacts.map((a) => this.#row(a))}
                </table>`
        }
      </section>
    `
  }

  #row(view: ArtifactView) {
    const { entry } = view.artifact
    const self = this.store?.status?.agent
    const status = (agent: string) =>
      this.store?.peers?.peers.find((p) => p.agent === agent)?.status ?? 'offline'
    const live = view.holders.filter((h) => status(h.author) !== 'offline').length
    const mine = view.holders.some((h) => h.author === self)
    return html`<tr class="artifact" data-cid=${entry.cid}>
      <td><b>${entry.name}</b><div class="muted">${entry.mime_type} · ${time(view.artifact.timestamp)}</div></td>
      <td class="cid mono" title=${`sha256 ${entry.sha256}`}>${entry.cid}</td>
      <td>${bytes(entry.size)}</td>
      <td>${this.#provenance(entry.provenance)}</td>
      <td><span class="badge replication ${live >= entry.replication ? 'done' : 'stale'}">${live}/${entry.replication}</span></td>
      <td class="holders">${view.holders.map(
        (h) =>
          html`<span class=${status(h.author) === 'offline' ? 'gone' : ''} title=${h.author}>${this.peerName(h.author)}</span>`,
      )}</td>
      <td>${
        mine
          ? html`<button class="secondary" ?disabled=${this.busy !== null} @click=${() => this.#act(entry.cid, 'unpin')}>Release here</button>`
          : html`<button ?disabled=${this.busy !== null} @click=${() => this.#act(entry.cid, 'pin')}>${this.busy === entry.cid ? 'Pinning…' : 'Pin here'}</button>`
      }</td>
    </tr>`
  }

  #provenance(p: ArtifactView['artifact']['entry']['provenance']) {
    if (p.task === null) return html`${p.tool}`
    return html`<div>output of task <code title=${p.task}>${short(p.task, 10)}</code></div>
      <div class="muted">${p.model ? `model ${p.model}` : p.tool}${p.input_cids.length ? ` · ${p.input_cids.length} input CID${p.input_cids.length === 1 ? '' : 's'}` : ''}</div>`
  }

  async #act(cid: string, action: 'pin' | 'unpin'): Promise<void> {
    const client = this.store?.client
    if (!client) return
    this.busy = cid
    this.message = null
    try {
      const view = action === 'pin' ? await client.pinArtifact(cid) : await client.unpinArtifact(cid)
      this.store?.putArtifact(view)
      this.message = {
        text: `${view.artifact.entry.name}: ${action === 'pin' ? 'pinned and kept on this peer' : 'released by this peer'}`,
        error: false,
      }
    } catch (err) {
      this.message = { text: (err as Error).message, error: true }
    }
    this.busy = null
  }
}
customElements.define('artifacts-page', ArtifactsPage)
