// Wharf live page: subscribe and publish over MQTT/WebSocket with the mqtt.js browser bundle
// (global `mqtt`, served by the admin server). Plain browser JS, no build step.
;(() => {
  const configRetryMs = 2000
  const $ = id => document.getElementById(id)
  const status = $('status')
  const subscribeButton = $('subscribe-button')
  const publishButton = $('publish-button')
  const publishResult = $('publish-result')
  const messages = $('messages')
  const subscriptions = $('subscriptions')
  const decoder = new TextDecoder()
  let client = null
  let messagesShownMax = 200

  function setStatus(state, text) {
    status.dataset.state = state
    status.textContent = text
    const connected = state === 'connected'
    subscribeButton.disabled = !connected
    publishButton.disabled = !connected
  }

  function setPublishResult(state, text) {
    publishResult.dataset.state = state
    publishResult.textContent = text
  }

  // The WebSocket listener has its own port; the admin server tells the page where it is.
  async function start() {
    let config
    try {
      const res = await fetch('/live/config.json', { cache: 'no-store' })
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      config = await res.json()
    } catch (err) {
      setStatus('error', `config: ${err.message}; retrying`)
      setTimeout(start, configRetryMs)
      return
    }
    messagesShownMax = config.messagesShownMax
    const url = `ws://${location.hostname}:${config.wsPort}${config.wsPath}`
    const clientId = `wharf-live-${Math.random().toString(16).slice(2, 10)}`
    // Wharf speaks MQTT 3.1.1 (aedes 1.x); a clean session so nothing is left behind when the tab closes.
    client = mqtt.connect(url, { protocolVersion: 4, clientId, clean: true, reconnectPeriod: 2000 })
    client.on('connect', () => setStatus('connected', `connected to ${url} as ${clientId}`))
    client.on('reconnect', () => setStatus('reconnecting', `reconnecting to ${url}`))
    client.on('offline', () => setStatus('offline', `offline (${url})`))
    client.on('error', err => setStatus('error', `error: ${err.message}`))
    client.on('message', showMessage)
  }

  function showMessage(topic, payload, packet) {
    const item = document.createElement('li')
    item.className = 'message'
    item.dataset.topic = topic
    item.dataset.qos = String(packet.qos)
    item.dataset.retain = String(packet.retain)
    const topicEl = document.createElement('span')
    topicEl.className = 'topic'
    topicEl.textContent = topic
    const payloadEl = document.createElement('span')
    payloadEl.className = 'payload'
    payloadEl.textContent = decoder.decode(payload)
    item.append(topicEl, payloadEl)
    messages.prepend(item)
    while (messages.children.length > messagesShownMax) messages.lastElementChild.remove()
  }

  function addSubscription(filter) {
    if (subscriptions.querySelector(`li[data-filter="${CSS.escape(filter)}"]`)) return
    const item = document.createElement('li')
    item.className = 'subscription'
    item.dataset.filter = filter
    const text = document.createElement('span')
    text.textContent = filter
    const remove = document.createElement('button')
    remove.type = 'button'
    remove.textContent = 'Unsubscribe'
    remove.setAttribute('aria-label', `Unsubscribe from ${filter}`)
    remove.addEventListener('click', () => {
      client.unsubscribe(filter, err => {
        if (err) setStatus('error', `unsubscribe ${filter}: ${err.message}`)
        else item.remove()
      })
    })
    item.append(text, remove)
    subscriptions.append(item)
  }

  $('subscribe-form').addEventListener('submit', event => {
    event.preventDefault()
    const filter = $('subscribe-filter').value.trim()
    if (!filter || !client) return
    client.subscribe(filter, { qos: 1 }, (err, granted) => {
      // A SUBACK return code of 128 is the broker refusing that filter.
      const refused = err || granted?.some(g => g.qos === 128)
      if (refused) {
        setStatus('error', `subscribe ${filter}: ${err ? err.message : 'refused by the broker'}`)
        return
      }
      addSubscription(filter)
    })
  })

  $('publish-form').addEventListener('submit', event => {
    event.preventDefault()
    const topic = $('publish-topic').value.trim()
    if (!topic || !client) return
    const qos = Number($('publish-qos').value)
    const retain = $('publish-retain').checked
    setPublishResult('pending', `publishing to ${topic}`)
    client.publish(topic, $('publish-payload').value, { qos, retain }, err => {
      if (err) setPublishResult('error', `publish ${topic}: ${err.message}`)
      else setPublishResult('ok', `published to ${topic} (QoS ${qos}${retain ? ', retained' : ''})`)
    })
  })

  start()
})()
