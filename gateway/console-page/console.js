// The operator console: a login against the admin API's auth, then every `interval` ms (default 2000,
// ?interval= to change it) the overview, connections and queues feed the live charts, the totals and
// the tables.
import { api, loggedIn, login, logout, setUnauthorizedHandler } from './console-api.js'
import { LiveChart, bytes, count } from './console-charts.js'
import { Tables } from './console-tables.js'

const $ = id => document.getElementById(id)
const intervalMs = Math.max(250, Number(new URLSearchParams(location.search).get('interval')) || 2000)
let charts = null
let tables = null
let timer = null
let toastTimer = null

function showLogin(message = '') {
  clearTimeout(timer)
  $('app').hidden = true
  $('who').hidden = true
  $('login').hidden = false
  $('login-error').textContent = message
  $('login-user').focus()
}

async function showApp() {
  const me = await api('GET', '/api/whoami')
  $('who-name').textContent = `${me.name} (${me.tags.join(', ')})`
  $('who').hidden = false
  $('login').hidden = true
  $('app').hidden = false
  charts ??= {
    rates: new LiveChart($('chart-rates'), ['publish', 'deliver', 'ack'], count),
    connections: new LiveChart($('chart-connections'), ['connections', 'consumers'], count),
    depth: new LiveChart($('chart-depth'), ['messages', 'ready', 'unacked'], count),
    storage: new LiveChart($('chart-storage'), ['local', 'cold', 'backlog'], bytes)
  }
  tables ??= new Tables(document, {
    onAction: text => {
      toast(text)
      poll()
    },
    onError: err => toast(err.message, true)
  })
  poll()
}

async function poll() {
  clearTimeout(timer)
  try {
    const [overview, connections, queues] = await Promise.all([api('GET', '/api/overview'), api('GET', '/api/connections'), api('GET', '/api/queues')])
    render(overview, connections, queues)
  } catch (err) {
    if (!loggedIn()) return
    toast(err.message, true)
  }
  if (loggedIn()) timer = setTimeout(poll, intervalMs)
}

function render(o, connections, queues) {
  const now = Date.now()
  const ms = o.message_stats ?? {}
  const qt = o.queue_totals ?? {}
  const st = o.storage ?? {}
  $('node').textContent = `${o.node} · Wharf ${o.product_version} · up ${Math.floor(o.uptime_ms / 60000)} min`
  $('kpi-connections').textContent = count(o.object_totals.connections)
  $('kpi-queues').textContent = count(o.object_totals.queues)
  $('kpi-messages').textContent = count(qt.messages)
  $('kpi-publish').textContent = count(ms.publish_details?.rate ?? 0)
  $('kpi-deliver').textContent = count(ms.deliver_get_details?.rate ?? 0)
  $('kpi-storage').textContent = `${bytes(st.local_bytes)} / ${bytes(st.cold_bytes)}`
  charts.rates.push(now, [ms.publish_details?.rate ?? 0, ms.deliver_get_details?.rate ?? 0, ms.ack_details?.rate ?? 0])
  charts.connections.push(now, [o.object_totals.connections, o.object_totals.consumers])
  charts.depth.push(now, [qt.messages ?? 0, qt.messages_ready ?? 0, qt.messages_unacknowledged ?? 0])
  charts.storage.push(now, [st.local_bytes ?? 0, st.cold_bytes ?? 0, st.tiering_backlog_bytes ?? 0])
  tables.update({ connections, queues })
}

function toast(text, bad = false) {
  const t = $('toast')
  t.textContent = text
  t.classList.toggle('bad', bad)
  t.hidden = false
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => {
    t.hidden = true
  }, 4000)
}

$('login-form').addEventListener('submit', async e => {
  e.preventDefault()
  $('login-error').textContent = ''
  try {
    await login($('login-user').value, $('login-password').value)
    $('login-password').value = ''
    await showApp()
  } catch (err) {
    $('login-error').textContent = err.message
  }
})
$('logout').addEventListener('click', () => {
  logout()
  showLogin()
})
setUnauthorizedHandler(() => showLogin('Your session ended: log in again.'))

if (loggedIn()) showApp().catch(() => showLogin())
else showLogin()
