// verify.mjs verifies one Sigstore bundle over one artifact with sigstore-js, as an npm installation bundles it
// (the modules of npm's own node_modules: @sigstore/bundle, @sigstore/verify, @sigstore/protobuf-specs), against a
// trusted root file, for a signer identity. For a DSSE bundle it also requires a statement subject with the
// artifact's sha256 or sha512, as npm does for provenance. It prints "verified" and exits 0, or prints the error and
// exits 1. Used by waxseal's end-to-end tests; it reads nothing from the network.
//
//   node verify.mjs NPM_NODE_MODULES TRUSTED_ROOT BUNDLE ARTIFACT SAN ISSUER
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [modules, rootPath, bundlePath, artifactPath, san, issuer] = process.argv.slice(2);
const require = createRequire(join(modules, 'npm-package.json'));
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

try {
  const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(rootPath, 'utf8'))));
  const bundle = bundleFromJSON(JSON.parse(readFileSync(bundlePath, 'utf8')));
  const artifact = readFileSync(artifactPath);
  const entity = toSignedEntity(bundle, artifact);
  new Verifier(trust).verify(entity, { subjectAlternativeName: san, extensions: { issuer } });
  if (bundle.content.$case === 'dsseEnvelope') {
    const statement = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8'));
    const digests = {
      sha256: createHash('sha256').update(artifact).digest('hex'),
      sha512: createHash('sha512').update(artifact).digest('hex'),
    };
    const named = (statement.subject || []).some((s) =>
      Object.entries(s.digest || {}).some(([alg, hex]) => digests[alg] !== undefined && digests[alg] === hex));
    if (!named) {
      throw new Error('no statement subject has the artifact\'s digest');
    }
  }
  console.log('verified');
} catch (e) {
  console.log(`refused: ${e.code || ''} ${e.message}`);
  process.exit(1);
}
