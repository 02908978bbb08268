// judge.mjs answers, for a package tarball, exactly what one npm would make of it, using that npm's own
// bundled code: `node judge.mjs npm11` loads pacote, node-tar, @npmcli/package-json, npm-package-arg,
// semver and libnpmpublish from node_modules/npm11/node_modules, the copies that npm itself runs
// (package.json pins each npm; package-lock.json pins the install). waxseal's differential tests
// (internal/npm/differential_test.go) run one judge per npm as a long-lived helper: the first line it
// writes names the npm and the versions of the libraries it bundles, then it answers one JSON
// request per line on stdin with one JSON answer per line on stdout (up to four requests are worked
// on at once, so answers may come out of order: match them by id).
//
//   -> {"id": 0, "versions": {"npm": "11.21.3", "tar": "7.5.22", "pacote": "21.5.2", ...}}
//   {"id": 1, "op": "judge", "path": "/abs/pkg.tgz"}
//     -> {"id": 1, "publish": {...}, "install": {...}}
//   {"id": 2, "op": "tarname", "path": "package/a/b.js"}
//     -> {"id": 2, "header": "<base64 of the 512-byte ustar header node-tar writes>", "needPax": false}
//   {"id": 4, "op": "headers", "blocks": ["<base64 of one 512-byte header block>", ...]}
//     -> {"id": 4, "parsed": [{"valid": true, "type": "File", "path": "package/a.js", "size": 3, "warnings": []}, ...]}
//   {"id": 5, "op": "pieces", "path": "/abs/pkg.tgz"}
//     -> {"id": 5, "readings": [{"paths": ["package/package.json", ...], "sizes": 600}]}
//   {"id": 3, "op": "identity", "name": " a ", "version": "v1.0.0"}
//     -> {"id": 3, "publish": {"ok": true, "name": "a", "version": "1.0.0", "purl": "pkg:npm/a@1.0.0"}}
//
// "publish" follows `npm publish <tarball>` (lib/commands/publish.js) step by step: the
// manifest comes from pacote.manifest(spec, {fullMetadata, fullReadJson}), which extracts the
// tarball with node-tar and reads package.json with @npmcli/package-json's prepare(); the tarball
// bytes from libnpmpack's pacote.tarball(); then the command's own checks; then libnpmpublish's
// publish(), whose PUT to the registry is captured by a local server standing in for the registry.
// name and version are what that PUT publishes; purl is the provenance subject libnpmpublish
// would sign (npa.toPurl of the manifest's name and version).
//
// "install" follows what `npm install <tarball>` writes: pacote.extract() into an empty
// directory (the call arborist's reify makes), then the root package.json's exact bytes and every
// file extracted. "install.chunked" is the same extraction with the compressed bytes arriving in
// small pieces (97 bytes), as they do from the registry over HTTP (a local file arrives in one piece):
// node-tar's output then depends on where the pieces break (op "pieces" tries every piece size).
import { createServer } from 'node:http'
import zlib from 'node:zlib'
import { createRequire } from 'node:module'
import { mkdtemp, readdir, readFile, lstat, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const npmName = process.argv[2]
if (!/^npm[0-9a-z-]*$/.test(npmName ?? '')) {
  console.error('usage: node judge.mjs <npm alias in package.json, e.g. npm11>')
  process.exit(2)
}
const npmDir = join(dirname(fileURLToPath(import.meta.url)), 'node_modules', npmName)
// Resolve every module the way npm's own code does: from npm's directory, so its bundled copies.
const npmRequire = createRequire(join(npmDir, 'package.json'))
const { Minipass } = npmRequire('minipass')
const pacote = npmRequire('pacote')
const npa = npmRequire('npm-package-arg')
const semver = npmRequire('semver')
const PackageJson = npmRequire('@npmcli/package-json')
const { publish: libpub } = npmRequire('libnpmpublish')
const tarLib = npmRequire('tar')
const { Header } = tarLib
const Parser = tarLib.Parser ?? tarLib.Parse // node-tar 6 calls it Parse
const versionOf = name => npmRequire(`${name}/package.json`).version
const npmVersion = npmRequire('./package.json').version
// minizlib is node-tar's own (node-tar 6 bundles an older one than npm does).
const tarRequire = createRequire(npmRequire.resolve('tar/package.json'))
const versions = {
  npm: npmVersion,
  tar: versionOf('tar'),
  pacote: versionOf('pacote'),
  minizlib: tarRequire('minizlib/package.json').version,
  minipass: versionOf('minipass'),
  libnpmpublish: versionOf('libnpmpublish'),
  'npm-package-arg': versionOf('npm-package-arg'),
  '@npmcli/package-json': versionOf('@npmcli/package-json'),
  semver: versionOf('semver'),
}
process.stdout.write(JSON.stringify({ id: 0, versions }) + '\n')

const root = await mkdtemp(join(tmpdir(), 'waxseal-npmjs-'))

// The stand-in registry: each request publishes under its own path prefix, /<id>/, and the body
// of its PUT is handed to the request waiting for it.
const pending = new Map()
const registry = createServer((req, res) => {
  const chunks = []
  req.on('data', c => chunks.push(c))
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{}')
    const id = req.url.split('/')[1]
    if (req.method === 'PUT' && pending.has(id)) {
      pending.get(id)({ url: req.url, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) })
    }
  })
})
await new Promise(resolve => registry.listen(0, '127.0.0.1', resolve))
const port = registry.address().port

// Each request gets its own pacote cache (pacote caches every tarball it reads), removed after.
const baseOpts = (id) => ({
  cache: join(root, `cache-${id}`),
  registry: `http://127.0.0.1:${port}/${id}/`,
  [`//127.0.0.1:${port}/${id}/:_authToken`]: 'judge',
  retry: { retries: 0 },
  timeout: 30000,
  npmVersion,
  defaultTag: 'latest',
  access: null,
  provenance: false,
  log: { silly () {}, verbose () {}, warn () {}, notice () {}, http () {} },
})

const errInfo = e => ({ ok: false, error: String(e?.message ?? e).slice(0, 500), code: e?.code ?? null })

async function publishView (id, file) {
  const opts = baseOpts(id)
  const spec = npa(file)
  // #getManifest: pacote.manifest with fullMetadata and fullReadJson for anything but a directory.
  const manifest = await pacote.manifest(spec, { ...opts, fullMetadata: true, fullReadJson: true })
  // libnpmpack with dryRun: its own pacote.manifest, then the tarball bytes.
  const packed = await pacote.manifest(spec, { ...opts, _isRoot: true })
  const tarballData = await pacote.tarball(packed._resolved, { ...opts, integrity: packed._integrity })
  // (npm reads the manifest once more "in case it changed"; the file cannot have, so that read is
  // left out.)
  // The prerelease check (npm would ask for --tag; the judge publishes as if --tag had been given),
  // then npa.resolve and the tag check, all of which throw on what npm refuses.
  void semver.parse(manifest.version).prerelease
  npa.resolve(manifest.name, manifest.version)
  npa(`${manifest.name}@latest`)
  const purl = npa.toPurl(npa.resolve(manifest.name, manifest.version))
  // libnpmpublish refuses a private package (EPRIVATE); report "private" and publish a copy without
  // it, so name and version are known for private packages too.
  const isPrivate = Boolean(manifest.private)
  const { private: _, ...toPublish } = manifest
  const put = new Promise(resolve => pending.set(String(id), resolve))
  try {
    await libpub(toPublish, tarballData, opts)
  } finally {
    pending.delete(String(id))
  }
  const { body } = await put
  const versions = Object.keys(body.versions ?? {})
  const attachment = body._attachments?.[`${body.name}-${versions[0]}.tgz`]
  const url = body.versions?.[versions[0]]?.repository?.url
  return {
    ok: true,
    name: body.name,
    version: versions[0],
    purl,
    private: isPrivate,
    sameBytes: attachment?.data === tarballData.toString('base64'),
    repository: typeof url === 'string' ? url : null,
  }
}

// chunkedFetcher is pacote's FileFetcher reading the file in pieces of the given size, as bytes
// arrive from the registry.
const chunkedFetcher = piece => class extends pacote.FileFetcher {
  [Symbol.for('pacote.Fetcher._tarballFromResolved')] () {
    const stream = new Minipass()
    readFile(this.resolved).then(data => {
      for (let i = 0; i < data.length; i += piece) {
        stream.write(data.subarray(i, i + piece))
      }
      stream.end()
    }, err => stream.emit('error', err))
    return stream
  }
}
const ChunkedFileFetcher = chunkedFetcher(97)

async function listFiles (dir, rel = '') {
  const out = []
  for (const d of await readdir(join(dir, rel), { withFileTypes: true }).catch(() => [])) {
    const p = rel ? `${rel}/${d.name}` : d.name
    if (d.isDirectory()) {
      out.push(...await listFiles(dir, p))
    } else {
      const st = await lstat(join(dir, p)).catch(() => null)
      out.push({ path: p, size: st?.isFile() ? st.size : -1 })
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

// removeDir removes a scratch directory; node-tar may still be writing into it after an
// extraction failed, so it retries, and leaves what it cannot remove to the final cleanup.
const removeDir = dir => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }).catch(() => {})

async function extractView (extract) {
  const dest = await mkdtemp(join(root, 'x-'))
  try {
    let error = null
    try {
      await extract(dest)
    } catch (e) {
      error = errInfo(e)
    }
    let manifest = null
    try {
      manifest = (await readFile(join(dest, 'package.json'))).toString('base64')
    } catch {
      // no package.json at the root
    }
    return { ok: error === null, error: error?.error ?? null, code: error?.code ?? null, manifest, files: await listFiles(dest) }
  } finally {
    await removeDir(dest)
  }
}

async function installView (id, file) {
  const install = await extractView(dest => pacote.extract(npa(file), dest, baseOpts(id)))
  install.chunked = await extractView(dest => new ChunkedFileFetcher(npa(file), baseOpts(id)).extract(dest))
  return install
}

async function judge (id, file) {
  try {
    let publish
    try {
      publish = await publishView(id, file)
    } catch (e) {
      publish = errInfo(e)
    }
    return { publish, install: await installView(id, file) }
  } finally {
    await removeDir(baseOpts(id).cache)
  }
}

// identity runs just the name and version steps of "publish" on a package.json holding only them:
// @npmcli/package-json's normalizeData step (which prepare() runs: it trims and validates the name
// and semver.clean()s the version), npm publish's checks, and libnpmpublish's patchManifest (fixName
// and semver.clean). It is cheap, so fuzzing can ask it often.
async function identity (name, version) {
  const pkg = await new PackageJson().fromContent({ name, version }).normalize({ steps: ['_id', 'normalizeData'] })
  const manifest = pkg.content
  void semver.parse(manifest.version).prerelease
  npa.resolve(manifest.name, manifest.version)
  npa(`${manifest.name}@latest`)
  const purl = npa.toPurl(npa.resolve(manifest.name, manifest.version))
  const patched = (await new PackageJson().fromContent({ ...manifest }).normalize({ steps: ['fixName'] })).content
  const clean = semver.clean(patched.version)
  if (!clean) {
    throw Object.assign(new Error('invalid semver: ' + patched.version), { code: 'EBADSEMVER' })
  }
  return { ok: true, name: patched.name, version: clean, purl }
}

// tarname is what node-tar's Header.encode writes for a file entry at path p, as npm pack
// (portable: no uid, gid, uname, gname, atime or ctime) does.
function tarname (p) {
  const h = new Header({ path: p, mode: 0o644, size: 0, mtime: new Date('1985-10-26T08:15:00.000Z'), type: 'File' })
  const needPax = h.encode()
  return { header: h.block.toString('base64'), needPax }
}

// header is how node-tar's Parser takes one header block: it is given the block, a zero body of the
// size the block states (at most 64 KiB) and an end-of-archive marker, and reports whether it warned
// that the block is invalid (and so skipped it), and the type, path and size of the entry it read.
function header (block) {
  return new Promise(resolve => {
    const out = { valid: true, warnings: [], type: null, path: null, size: null }
    const p = new Parser({ strict: false })
    p.on('warn', (code, msg) => {
      out.warnings.push(`${code}: ${msg?.message ?? msg}`)
      if (code === 'TAR_ENTRY_INVALID') {
        out.valid = false
      }
    })
    p.on('entry', e => {
      if (out.type === null) {
        Object.assign(out, { type: e.type, path: e.path, size: e.size })
      }
      e.resume()
    })
    p.on('meta', () => {
      if (out.type === null) {
        out.type = 'meta'
      }
    })
    p.on('end', () => resolve(out))
    let size = 0
    try {
      size = Math.min(new Header(block).size ?? 0, 65536)
    } catch {}
    p.end(Buffer.concat([block, Buffer.alloc(Math.ceil(size / 512) * 512 + 1024)]))
  })
}

// pieces is what node-tar's Parser reads from the decompressed tar stream when it arrives in pieces of
// every size from 1 to 600 bytes (zlib hands node-tar the bytes in pieces whose sizes depend on how
// the compressed bytes arrived): the distinct lists of entry paths it reads, with how many piece sizes
// gave each. One list means the way the bytes arrive cannot change what npm reads.
async function pieces (file) {
  const data = zlib.gunzipSync(await readFile(file))
  const seen = new Map()
  for (let piece = 1; piece <= 600; piece++) {
    const p = new Parser()
    const paths = []
    p.on('entry', e => {
      paths.push(e.path)
      e.resume()
    })
    for (let i = 0; i < data.length; i += piece) {
      p.write(data.subarray(i, i + piece))
    }
    p.end()
    const key = JSON.stringify(paths)
    seen.set(key, (seen.get(key) ?? 0) + 1)
  }
  return [...seen].map(([k, n]) => ({ paths: JSON.parse(k), sizes: n }))
}

async function answer (req) {
  let a
  try {
    switch (req.op) {
      case 'tarname':
        a = tarname(req.path)
        break
      case 'pieces':
        a = { readings: await pieces(req.path) }
        break
      case 'headers':
        a = { parsed: [] }
        for (const b of req.blocks) {
          a.parsed.push(await header(Buffer.from(b, 'base64')))
        }
        break
      case 'identity':
        a = { publish: await identity(req.name, req.version).catch(errInfo) }
        break
      default:
        a = await judge(req.id, req.path)
    }
  } catch (e) {
    a = { error: String(e?.stack ?? e) }
  }
  process.stdout.write(JSON.stringify({ id: req.id, ...a }) + '\n')
}

const inFlight = new Set()
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of rl) {
  if (!line.trim()) {
    continue
  }
  let req
  try {
    req = JSON.parse(line)
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: null, error: 'bad request: ' + e.message }) + '\n')
    continue
  }
  while (inFlight.size >= 4) {
    await Promise.race(inFlight)
  }
  const p = answer(req).finally(() => inFlight.delete(p))
  inFlight.add(p)
}
await Promise.all(inFlight)
registry.close()
await removeDir(root)
