// evaluate.mjs - evaluates tests/data/ofrep/cases.json (or the file given)
// through the OpenFeature JavaScript server SDK and its OFREP provider, against
// the OFREP server at BASE_URL with TOKEN; then the split and rollout cases
// whose answers come from hashing (each must equal slipway's own `flag eval`,
// given in SPLIT_FILE).  Prints one line per case: "PASS what" or "FAIL what: why".
// Usage: node evaluate.mjs BASE_URL TOKEN CASES.json [SPLIT_FILE]
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const [baseUrl, token, casesFile, splitFile] = process.argv.slice(2);
const provider = new OFREPProvider({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
await OpenFeature.setProviderAndWait(provider);
const client = OpenFeature.getClient('slipway-ofrep-test');
const get = {
  boolean: (f, d, c) => client.getBooleanDetails(f, d, c),
  string: (f, d, c) => client.getStringDetails(f, d, c),
  number: (f, d, c) => client.getNumberDetails(f, d, c),
  object: (f, d, c) => client.getObjectDetails(f, d, c),
};
let failed = 0;
function report(what, problems) {
  if (problems.length) { failed++; console.log(`FAIL ${what}: ${problems.join('; ')}`); }
  else console.log(`PASS ${what}`);
}
for (const c of JSON.parse(readFileSync(casesFile, 'utf8'))) {
  const d = await get[c.type](c.flag, c.default, c.context);
  const problems = [];
  for (const [k, want] of Object.entries(c.expect))
    if (!isDeepStrictEqual(d[k], want)) problems.push(`${k} ${JSON.stringify(d[k])}, want ${JSON.stringify(want)}`);
  report(`${c.flag}: ${c.desc}`, problems);
}
if (splitFile) {
  // lines "FLAG TYPE TARGETING_KEY VALUE_JSON VARIANT REASON" from slipway flag eval
  const lines = readFileSync(splitFile, 'utf8').trim().split('\n');
  const problems = [];
  for (const line of lines) {
    const [flag, type, key, value, variant, reason] = line.split(' ');
    const d = await get[type](flag, type === 'boolean' ? false : '', { targetingKey: key });
    if (!isDeepStrictEqual(d.value, JSON.parse(value)) || d.variant !== variant || d.reason !== reason)
      problems.push(`${flag} for ${key}: ${JSON.stringify([d.value, d.variant, d.reason])}, slipway flag eval says ${[value, variant, reason]}`);
  }
  report(`${lines.length} hashed evaluations (50% rollout, 50/50 split) equal slipway's own`, problems);
}
await OpenFeature.close();
process.exit(failed ? 1 : 0);
