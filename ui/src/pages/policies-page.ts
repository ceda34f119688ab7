/** Policies: the published Cedar policies, who may publish them (admins), and the Decisions recorded. */
import { css, html, nothing } from 'lit'
import type { PolicyRecord } from '../../../host/api/contract/index.ts'
import type { AdminGrant, Decision, EntryRecord } from '../../../zomes-bindings/index.ts'
import { short, time } from '../format.ts'
import { LivePage } from '../live-page.ts'
import { shared } from '../styles.ts'

export class PoliciesPage extends LivePage {
  static override properties = {
    ...LivePage.properties,
    policies: { state: true },
    admins: { state: true },
    decisions: { state: true },
    message: { state: true },
  }
  declare policies: PolicyRecord[] | null
  declare admins: EntryRecord<AdminGrant>[]
  declare decisions: EntryRecord<Decision>[]
  declare message: { text: string; error: boolean } | null

  constructor() {
    super()
    this.policies = null
    this.admins = []
    this.decisions = []
    this.message = null
  }

  static override styles = [
    shared,
    css`
      pre {
        background: #f7f9fc;
        border-radius: 8px;
        padding: 10px 12px;
        overflow: auto;
        font-size: 13px;
      }
      textarea {
        width: 100%;
        box-sizing: border-box;
        min-height: 90px;
        font-family: ui-monospace, Menlo, Consolas, monospace;
      }
    `,
  ]

  override connectedCallback(): void {
    super.connectedCallback()
    void this.#refresh()
  }

  async #refresh(): Promise<void> {
    const client = this.store?.client
    if (!client) return
    try {
      const [policies, admins, decisions] = await Promise.all([
        client.listPolicies(),
        client.callZome('policy_store', 'list_admins', null),
        client.callZome('policy_store', 'list_decisions', { subject: null, limit: 50 }),
      ])
      this.policies = policies.policies
      this.admins = admins
      this.decisions = decisions
    } catch (err) {
      this.message = { text: (err as Error).message, error: true }
    }
  }

  override render() {
    const progenitor = this.store?.status?.progenitor ?? null
    const me = this.store?.status?.agent
    return html`
      <h2>Policies</h2>
      <p class="lead">Cedar policies decide who claims, assigns and runs what. With none published, everything is allowed.</p>
      ${this.message ? html`<p class=${this.message.error ? 'error' : 'muted'}>${this.message.text}</p>` : nothing}
      <section class="card">
        <h3>Admins</h3>
        ${
          progenitor === null && this.admins.length === 0
            ? html`<div class="empty">This is an open network: nobody can publish policies. A private mesh (<code>ripple up</code> without <code>--open</code>) makes its first peer the admin.</div>`
            : html`<ul>
                ${progenitor ? html`<li>${this.peerName(progenitor)} <span class="muted mono">${short(progenitor)}</span> · the mesh's first admin${progenitor === me ? ' (this peer)' : ''}</li>` : nothing}
                ${this.admins.map((a) => html`<li>${this.peerName(a.entry.agent)} <span class="muted mono">${short(a.entry.agent)}</span> · granted by ${this.peerName(a.author)}</li>`)}
              </ul>`
        }
      </section>
      <section class="card">
        <h3>Published policies</h3>
        ${
          this.policies === null
            ? html`<p class="muted">Loading…</p>`
            : this.policies.length === 0
              ? html`<div class="empty">No policy published: every peer may claim and run every task. An admin publishes one on this page or with
                  <code>ripple policy publish &lt;id&gt; --file policy.cedar</code>.</div>`
              : this.policies.map(
                  (p) => html`<div class="policy">
                    <b>${p.entry.id}</b> v${p.entry.version} <span class="muted">${p.entry.description} · by ${this.peerName(p.author)} at ${time(p.timestamp)}</span>
                    <pre>${p.entry.text}</pre>
                  </div>`,
                )
        }
      </section>
      ${progenitor === me ? this.#publishForm() : nothing}
      <section class="card">
        <h3>Recent decisions</h3>
        ${
          this.decisions.length === 0
            ? html`<p class="muted">No decisions recorded yet: denials, and decisions about other peers under a policy, appear here.</p>`
            : html`<table>
                <tr><th>When</th><th>Action</th><th>Subject</th><th>Resource</th><th>Outcome</th><th>Reason</th></tr>
                ${this.decisions.map(
                  (d) => html`<tr>
                    <td>${time(d.timestamp)}</td>
                    <td>${d.entry.action}</td>
                    <td>${this.peerName(d.entry.subject)}</td>
                    <td class="mono">${short(d.entry.resource, 24)}</td>
                    <td><span class="badge ${d.entry.allowed ? 'done' : 'failed'}">${d.entry.allowed ? 'allowed' : 'denied'}</span></td>
                    <td>${d.entry.reason}</td>
                  </tr>`,
                )}
              </table>`
        }
      </section>
    `
  }

  #publishForm() {
    return html`<form class="card" @submit=${(e: Event) => this.#publish(e)}>
      <h3>Publish a policy</h3>
      <div class="row"><label>Id <input name="id" required placeholder="no-sha256" /></label>
        <label>Description <input name="description" placeholder="what it is for" /></label></div>
      <p><textarea name="text" required>permit(principal, action, resource);</textarea></p>
      <button type="submit">Publish</button>
    </form>`
  }

  async #publish(event: Event): Promise<void> {
    event.preventDefault()
    const data = new FormData(event.target as HTMLFormElement)
    const description = String(data.get('description') ?? '')
    try {
      await this.store!.client.publishPolicy({
        id: String(data.get('id')),
        text: String(data.get('text')),
        ...(description ? { description } : {}),
      })
      this.message = { text: 'Published.', error: false }
      await this.#refresh()
    } catch (err) {
      this.message = { text: (err as Error).message, error: true }
    }
  }
}
customElements.define('policies-page', PoliciesPage)
