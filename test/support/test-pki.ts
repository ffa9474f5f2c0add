// Certificates for TLS tests, made with the openssl command line in a temporary directory: a CA, a
// server certificate for localhost / 127.0.0.1, client certificates it signs, and another CA whose
// certificates Wharf must refuse.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface CertFiles {
  readonly cert: string
  readonly key: string
}

export interface TestPki {
  readonly dir: string
  readonly caFile: string
  readonly otherCaFile: string
  readonly server: CertFiles
  /** A client certificate signed by the CA: CN and SANs as given. */
  client(name: string, opts?: { cn?: string; san?: string; otherCa?: boolean }): CertFiles
  /** A new server certificate (same CA, another serial) written over `files`. */
  renewServer(files: CertFiles, cn: string): void
  read(file: string): Buffer
  remove(): void
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`)
  const cert = join(dir, `${name}.pem`)
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      key,
      '-out',
      cert,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign'
    ],
    dir
  )
  return { cert, key }
}

function signed(dir: string, ca: { cert: string; key: string }, base: string, cn: string, san: string, usage: 'serverAuth' | 'clientAuth'): CertFiles {
  const key = join(dir, `${base}.key`)
  const csr = join(dir, `${base}.csr`)
  const cert = join(dir, `${base}.pem`)
  const ext = join(dir, `${base}.ext`)
  writeFileSync(ext, `basicConstraints=CA:FALSE\nextendedKeyUsage=${usage}\n${san === '' ? '' : `subjectAltName=${san}\n`}`)
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', key, '-out', csr], dir)
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert], dir)
  return { cert, key }
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-pki-'))
  const ca = makeCa(dir, 'wharf-test-ca')
  const other = makeCa(dir, 'other-ca')
  let n = 0
  return {
    dir,
    caFile: ca.cert,
    otherCaFile: other.cert,
    server: signed(dir, ca, 'server', 'localhost', 'DNS:localhost,IP:127.0.0.1', 'serverAuth'),
    client: (name, opts = {}) => signed(dir, opts.otherCa === true ? other : ca, `client-${name}-${n++}`, opts.cn ?? name, opts.san ?? '', 'clientAuth'),
    renewServer: (files, cn) => {
      const fresh = signed(dir, ca, `server-renewed-${n++}`, cn, 'DNS:localhost,IP:127.0.0.1', 'serverAuth')
      writeFileSync(files.cert, readFileSync(fresh.cert))
      writeFileSync(files.key, readFileSync(fresh.key))
    },
    read: file => readFileSync(file),
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}
