/**
 * The models page's aliases: names that stand for models in order of preference, and patterns for
 * the names agents send (`claude-*`), each with the model it runs now; set or removed here, on this
 * peer or (admins) for the whole mesh.
 */
import { html, nothing } from 'lit'
import type { AliasView } from '../../../host/api/contract/index.ts'
import { LivePage } from '../live-page.ts'
import { shared } from '../styles.ts'

/** What an alias runs follows the peers' load: read again this often while the page is open. */
const REFRESH_MS = 5000

export class AliasesCard extends LivePage {
  static override properties = {
    ...LivePage.properties,
    aliases: { state: true },
    message: { state: true },
  }
  declare aliases: AliasView[] | null
  declare message: { text: string; error: boolean } | null
  static override styles = [shared]
  #timer: ReturnType<typeof setInterval> | undefined

  constructor() {
    super()
    this.aliases = null
    this.message = null
  }

  override connectedCallback(): void {
    super.connectedCallback()
    this.#timer = setInterval(() => void this.#read(), REFRESH_MS)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearInterval(this.#timer)
  }

  override updated(changed: Map<PropertyKey, unknown>): void {
    super.updated(changed)
    if (changed.has('store') && this.store) void this.#read()
  }

  override render() {
    return html`<section class="card aliases">
      <h3>Aliases</h3>
      <p class="muted">A name agents are configured with once, or a pattern ending in <code>*</code> for the
        names they send (<code>claude-*</code>, <code>gpt-*</code>): it runs the first of its models some peer
        serves with a slot free, else the next, else waits for the first.</p>
      ${this.message ? html`<p class=${this.message.error ? 'error' : 'muted'}>${this.message.text}</p>` : nothing}
      ${
        this.aliases === null
          ? html`<p class="muted">Loading…</p>`
          : this.aliases.length === 0
            ? html`<div class="empty">No alias yet.</div>`
            : html`<table>
                <tr><th>Alias</th><th>Models, in order</th><th>Set</th><th>Runs now</th><th></th></tr>
                ${this.aliases.map(
                  (a) => html`<tr class="alias" data-alias=${a.name}>
                    <td><b>${a.name}</b></td>
                    <td>${a.targets.join(', ')}</td>
                    <td><span class="badge">${a.scope === 'mesh' ? 'mesh' : 'this peer'}</span></td>
                    <td>${a.resolves_to ?? html`<span class="error">no peer serves its models</span>`}</td>
                    <td><button class="secondary" @click=${() => this.#remove(a)}>Remove</button></td>
                  </tr>`,
                )}
              </table>`
      }
      <form class="set-alias" @submit=${(e: Event) => this.#set(e)}>
        <div class="row">
          <label>Alias <input name="name" size="16" required placeholder="coder, claude-*" /></label>
          <label>Models <input name="targets" size="40" required placeholder="qwen3-coder-30b qwen3-coder-7b" /></label>
          <label><input type="checkbox" name="mesh" /> for the whole mesh (admins)</label>
          <button type="submit">Set</button>
        </div>
      </form>
    </section>`
  }

  async #read(): Promise<void> {
    try {
      this.aliases = (await this.store!.client.listAliases()).aliases
    } catch (err) {
      this.message = { text: (err as Error).message, error: true }
    }
  }

  async #set(event: Event): Promise<void> {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const data = new FormData(form)
    const targets = String(data.get('targets') ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
    try {
      const set = await this.store!.client.setAlias({
        name: String(data.get('name') ?? '').trim(),
        targets,
        mesh: data.get('mesh') !== null,
      })
      this.message = {
        text: `${set.name} set (${set.scope}): runs ${set.resolves_to ?? 'nothing now'}.`,
        error: false,
      }
      form.reset()
    } catch (err) {
      this.message = { text: (err as Error).message, error: true }
    }
    await this.#read()
  }

  async #remove(alias: AliasView): Promise<void> {
    try {
      await this.store!.client.removeAlias({ name: alias.name, mesh: alias.scope === 'mesh' })
      this.message = { text: `${alias.name} removed.`, error: false }
    } catch (err) {
      this.message = { text: (err as Error).message, error: true }
    }
    await this.#read()
  }
}
customElements.define('model-aliases', AliasesCard)
