// acme-harness driver for the acme-client library (npm): node driver.js issue|renew|revoke.
// Settings come from the harness's variables in the environment (ACME_DIRECTORY,
// DOMAIN, DOMAINS, EMAIL, WORK_DIR, CHALLENGE, ACMEH_BIN, ACMEH_MGMT). Trust comes from
// NODE_EXTRA_CA_CERTS, set by the target file. Challenges are published with
// `acme-harness hook`; the library's own pre-check (which would fetch
// http://DOMAIN:80 and ask the system resolver) is skipped: the server checks.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const acme = require('acme-client');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const state = path.join(env('WORK_DIR'), 'node-acme-client');
const files = {
  account: path.join(state, 'account-key.pem'),
  key: path.join(state, `${env('DOMAIN')}.key.pem`),
  cert: path.join(state, `${env('DOMAIN')}.crt.pem`),
};

function hook(action, challenge, authz, keyAuthorization) {
  const id = authz.identifier.value;
  let args;
  if (challenge.type === 'http-01') args = ['http-01', action, challenge.token, keyAuthorization];
  else if (challenge.type === 'dns-01') args = ['dns-01', action, id, keyAuthorization];
  else if (challenge.type === 'tls-alpn-01') args = ['tls-alpn-01', action, id, keyAuthorization];
  else throw new Error(`unsupported challenge type ${challenge.type}`);
  execFileSync(env('ACMEH_BIN'), ['hook', ...args], { stdio: 'inherit', timeout: 20000 });
}

async function client() {
  fs.mkdirSync(state, { recursive: true });
  if (!fs.existsSync(files.account)) {
    fs.writeFileSync(files.account, await acme.crypto.createPrivateEcdsaKey(), { mode: 0o600 });
  }
  // The CA's External Account Binding (RFC 8555 §7.3.4), when the scenario gives one.
  const eab = process.env.EAB_KID && process.env.EAB_HMAC_KEY ? { kid: process.env.EAB_KID, hmacKey: process.env.EAB_HMAC_KEY } : undefined;
  return new acme.Client({ directoryUrl: env('ACME_DIRECTORY'), accountKey: fs.readFileSync(files.account), externalAccountBinding: eab });
}

async function issue() {
  const wanted = process.env.CHALLENGE || 'http-01';
  const c = await client();
  // Every name of DOMAINS (comma-separated, DOMAIN first) in one order.
  const names = (process.env.DOMAINS || env('DOMAIN')).split(',');
  const [key, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: names }, await acme.crypto.createPrivateEcdsaKey());
  const cert = await c.auto({
    csr,
    email: process.env.EMAIL || undefined,
    termsOfServiceAgreed: true,
    challengePriority: [wanted],
    skipChallengeVerification: true,
    challengeCreateFn: async (authz, challenge, keyAuthorization) => {
      if (challenge.type !== wanted) throw new Error(`server offered no ${wanted} challenge (picked ${challenge.type})`);
      hook('add', challenge, authz, keyAuthorization);
    },
    challengeRemoveFn: async (authz, challenge, keyAuthorization) => hook('del', challenge, authz, keyAuthorization),
  });
  fs.writeFileSync(files.key, key, { mode: 0o600 });
  fs.writeFileSync(files.cert, cert);
}

async function revoke() {
  const c = await client();
  // onlyReturnExisting: acme-client follows newAccount's 200 with an account update of the
  // same payload; {termsOfServiceAgreed: true} alone is refused by Pebble as an empty update,
  // while onlyReturnExisting is dropped there and the update becomes a POST-as-GET.
  await c.createAccount({ onlyReturnExisting: true });
  await c.revokeCertificate(fs.readFileSync(files.cert));
}

const actions = { issue, renew: issue, revoke };
const action = actions[process.argv[2]];
if (!action) {
  process.stderr.write('usage: node driver.js issue|renew|revoke\n');
  process.exit(2);
}
action().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`node-acme-client: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  },
);
