// A real OpenID provider for the interop tests: panva's oidc-provider
// (pinned in package.json and package-lock.json), configured the way a
// service-to-service deployment configures Keycloak or Auth0:
//
// - the client-credentials grant, with client_secret_basic;
// - resource indicators (RFC 8707), so that an access token for the
//   ledger's audience is a signed JWT (RFC 9068) with `iss`, `aud`, `sub`
//   (the client id), `scope`, `jti`, `iat` and `exp`;
// - a fresh ES256 signing key on every start, so restarting it on the same
//   port is a key rotation.
//
//   node provider.mjs [--port N] [--issuer URL] [--ttl SECONDS]
//
// It listens on 127.0.0.1 (port 0: a free one) and prints one JSON line,
// {"issuer": .., "port": .., "kid": ..}, once it accepts connections. The
// issuer is http://127.0.0.1:PORT unless --issuer names another (a
// misconfigured provider whose discovery document names an issuer it is not
// reached at). It stops on SIGTERM.
//
// Clients (id = secret = the name), each with the scopes it may ask for and
// the `acct` claim the ledger's account:self compares:
//   reporter  reports:read
//   clerk-a1  entries:write, acct a-1
//   clerk-a2  entries:write, acct a-2
//   admin     ledger:admin reports:read
// Resource servers (the `resource` parameter, which becomes `aud`):
//   urn:example:ledger, urn:example:other

import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const port = Number(option('port', '0'));
const ttl = Number(option('ttl', '300'));
const RESOURCES = ['urn:example:ledger', 'urn:example:other'];
const CLIENTS = {
  reporter: { scope: 'reports:read' },
  'clerk-a1': { scope: 'entries:write', acct: 'a-1' },
  'clerk-a2': { scope: 'entries:write', acct: 'a-2' },
  admin: { scope: 'ledger:admin reports:read' },
};

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kid = randomBytes(8).toString('hex');
const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };

const server = http.createServer();
server.listen(port, '127.0.0.1', () => {
  const bound = server.address().port;
  const issuer = option('issuer', `http://127.0.0.1:${bound}`);
  const provider = new Provider(issuer, {
    clients: Object.keys(CLIENTS).map((id) => ({
      client_id: id,
      client_secret: id,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    // The only key is an EC key: nothing may default to RS256.
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCES[0],
        useGrantedResource: () => true,
        // A client gets at most its own scopes, for either resource.
        getResourceServerInfo: (ctx, resource, client) => {
          if (!RESOURCES.includes(resource)) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: CLIENTS[client.clientId]?.scope ?? '',
            audience: resource,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    extraTokenClaims: (ctx, token) => {
      const acct = CLIENTS[token.clientId]?.acct;
      return acct ? { acct } : undefined;
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, port: bound, kid })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
