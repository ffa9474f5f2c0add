// Sortable, filterable tables of connections, queues and MQTT sessions, with their actions (close,
// purge, delete). A destructive action takes two clicks: the first arms the button, the second acts.
import { api } from './console-api.js'
import { bytes, count } from './console-charts.js'

const SESSION_PREFIX = 'mqtt-session/'
const armedMs = 4000
const seg = s => encodeURIComponent(s)

const since = ms => {
  if (typeof ms !== 'number' || ms <= 0) return ''
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000))
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`
}

const tabs = {
  connections: {
    rows: data => data.connections,
    key: c => c.name,
    columns: [
      { title: 'Name', value: c => c.name, cls: 'name' },
      { title: 'Protocol', value: c => c.protocol },
      { title: 'User', value: c => c.user },
      { title: 'Vhost', value: c => c.vhost },
      { title: 'Client', value: c => c.client_id ?? c.client_properties?.connection_name ?? c.client_properties?.product ?? '' },
      { title: 'Connected', value: c => c.connected_at, show: since },
      { title: 'Msgs in /s', value: c => c.message_stats?.publish_details?.rate ?? 0, show: count, num: true },
      { title: 'Msgs out /s', value: c => c.message_stats?.deliver_get_details?.rate ?? 0, show: count, num: true },
      { title: 'In /s', value: c => c.recv_oct_details?.rate ?? 0, show: v => `${bytes(v)}/s`, num: true },
      { title: 'Out /s', value: c => c.send_oct_details?.rate ?? 0, show: v => `${bytes(v)}/s`, num: true }
    ],
    actions: [{ label: 'Close', done: c => `connection ${c.name} closed`, run: c => api('DELETE', `/api/connections/${seg(c.name)}`) }]
  },
  queues: {
    rows: data => data.queues.filter(q => !q.name.startsWith(SESSION_PREFIX)),
    key: q => `${q.vhost}/${q.name}`,
    columns: [
      { title: 'Vhost', value: q => q.vhost },
      { title: 'Name', value: q => q.name, cls: 'name' },
      { title: 'Type', value: q => q.type },
      { title: 'Messages', value: q => q.messages, show: count, num: true },
      { title: 'Ready', value: q => q.messages_ready, show: count, num: true },
      { title: 'Unacked', value: q => q.messages_unacknowledged, show: count, num: true },
      { title: 'Consumers', value: q => q.consumers, num: true },
      { title: 'In /s', value: q => q.message_stats?.publish_details?.rate ?? 0, show: count, num: true },
      { title: 'Out /s', value: q => q.message_stats?.deliver_get_details?.rate ?? 0, show: count, num: true }
    ],
    actions: [
      { label: 'Purge', done: q => `queue ${q.name} purged`, run: q => api('DELETE', `/api/queues/${seg(q.vhost)}/${seg(q.name)}/contents`) },
      { label: 'Delete', done: q => `queue ${q.name} deleted`, run: q => api('DELETE', `/api/queues/${seg(q.vhost)}/${seg(q.name)}`) }
    ]
  },
  sessions: {
    rows: data => data.queues.filter(q => q.name.startsWith(SESSION_PREFIX)),
    key: q => `${q.vhost}/${q.name}`,
    columns: [
      { title: 'Client id', value: q => q.name.slice(SESSION_PREFIX.length), cls: 'name' },
      { title: 'State', value: q => (q.consumers > 0 ? 'online' : 'offline'), show: v => `<span class="badge ${v}">${v}</span>`, html: true },
      { title: 'Kept', value: q => (q.durable ? 'persistent' : 'clean') },
      { title: 'Queued', value: q => q.messages_ready, show: count, num: true },
      { title: 'In flight', value: q => q.messages_unacknowledged, show: count, num: true }
    ],
    actions: [
      {
        label: 'Delete',
        done: q => `session ${q.name.slice(SESSION_PREFIX.length)} ended`,
        run: q => api('DELETE', `/api/queues/${seg(q.vhost)}/${seg(q.name)}`)
      }
    ]
  }
}

export class Tables {
  constructor(root, { onAction, onError }) {
    this.table = root.querySelector('#table')
    this.empty = root.querySelector('#empty')
    this.filter = root.querySelector('#filter')
    this.tab = 'connections'
    this.sort = { connections: [5, true], queues: [3, true], sessions: [0, false] }
    this.data = { connections: [], queues: [] }
    this.onAction = onAction
    this.onError = onError
    for (const b of root.querySelectorAll('[role=tab]')) {
      b.addEventListener('click', () => {
        this.tab = b.dataset.tab
        for (const o of root.querySelectorAll('[role=tab]')) o.setAttribute('aria-selected', String(o === b))
        this.render()
      })
    }
    this.filter.addEventListener('input', () => this.render())
    this.table.addEventListener('click', e => this.clicked(e.target.closest('button')))
  }

  update(data) {
    this.data = data
    for (const [name, t] of Object.entries(tabs)) document.getElementById(`count-${name}`).textContent = `(${t.rows(data).length})`
    // An armed button waits for its second click: no redraw under it.
    if (this.table.querySelector('button[data-armed]') === null) this.render()
  }

  render() {
    const t = tabs[this.tab]
    const [col, desc] = this.sort[this.tab]
    const needle = this.filter.value.trim().toLowerCase()
    const rows = t
      .rows(this.data)
      .filter(
        r =>
          needle === '' ||
          t.columns.some(c =>
            String(c.value(r) ?? '')
              .toLowerCase()
              .includes(needle)
          )
      )
      .sort((a, b) => compare(t.columns[col].value(a), t.columns[col].value(b)) * (desc ? -1 : 1))
    this.rows = new Map(rows.map(r => [t.key(r), r]))
    const head = t.columns
      .map(
        (c, i) =>
          `<th${c.num ? ' class="num"' : ''}${i === col ? ` aria-sort="${desc ? 'descending' : 'ascending'}"` : ''}><button type="button" data-sort="${i}">${esc(c.title)}</button></th>`
      )
      .join('')
    this.table.tHead.innerHTML = `<tr>${head}<th></th></tr>`
    this.table.tBodies[0].innerHTML = rows
      .map(r => {
        const cells = t.columns
          .map(c => {
            const v = c.value(r)
            const shown = c.show ? c.show(v) : (v ?? '')
            return `<td class="${c.num ? 'num' : ''} ${c.cls ?? ''}" title="${esc(String(v ?? ''))}">${c.html ? shown : esc(String(shown))}</td>`
          })
          .join('')
        const actions = t.actions.map((a, i) => `<button type="button" data-action="${i}" data-key="${esc(t.key(r))}">${a.label}</button>`).join('')
        return `<tr data-key="${esc(t.key(r))}">${cells}<td class="actions">${actions}</td></tr>`
      })
      .join('')
    this.empty.hidden = rows.length > 0
  }

  async clicked(button) {
    if (button === null) return
    if (button.dataset.sort !== undefined) {
      const i = Number(button.dataset.sort)
      const [col, desc] = this.sort[this.tab]
      this.sort[this.tab] = [i, col === i ? !desc : false]
      this.render()
      return
    }
    const t = tabs[this.tab]
    const action = t.actions[Number(button.dataset.action)]
    const row = this.rows.get(button.dataset.key)
    if (action === undefined || row === undefined) return
    if (button.dataset.armed === undefined) {
      button.dataset.armed = ''
      button.textContent = `${action.label}?`
      setTimeout(() => {
        if (button.isConnected) {
          delete button.dataset.armed
          button.textContent = action.label
        }
      }, armedMs)
      return
    }
    button.disabled = true
    try {
      await action.run(row)
      this.onAction(action.done(row))
    } catch (err) {
      this.onError(err)
    } finally {
      delete button.dataset.armed
      this.render()
    }
  }
}

function compare(a, b) {
  if (a === b) return 0
  if (a == null) return -1
  if (b == null) return 1
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))
}

function esc(s) {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}
