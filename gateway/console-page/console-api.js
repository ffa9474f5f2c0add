// The management API with the login's credentials. X-Requested-With keeps the browser from showing
// its own Basic dialog on a 401: the console shows its login form instead.
const storageKey = 'wharf-console-auth'

let authorization = sessionStorage.getItem(storageKey)
let onUnauthorized = () => {}

export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn
}

export function loggedIn() {
  return authorization !== null
}

/** Tries the credentials on /api/whoami; keeps them for this tab when they work. */
export async function login(user, password) {
  const candidate = 'Basic ' + base64(`${user}:${password}`)
  const res = await fetch('/api/whoami', { headers: headers(candidate) })
  if (res.status === 401) throw new Error('wrong user name or password')
  if (res.status === 403) throw new Error(`user '${user}' may not use the console (needs the administrator or monitoring tag)`)
  if (!res.ok) throw new Error(`login failed: ${res.status} ${res.statusText}`)
  authorization = candidate
  sessionStorage.setItem(storageKey, candidate)
  return await res.json()
}

export function logout() {
  authorization = null
  sessionStorage.removeItem(storageKey)
}

export async function api(method, path, body) {
  const init = { method, headers: headers(authorization ?? '') }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    init.headers['content-type'] = 'application/json'
  }
  const res = await fetch(path, init)
  if (res.status === 401) {
    logout()
    onUnauthorized()
    throw new Error('logged out: the credentials are no longer accepted')
  }
  const text = await res.text()
  const json = text === '' ? undefined : JSON.parse(text)
  if (!res.ok) throw new Error(json?.reason ?? `${method} ${path}: ${res.status}`)
  return json
}

function headers(auth) {
  return { authorization: auth, 'x-requested-with': 'XMLHttpRequest' }
}

function base64(text) {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}
