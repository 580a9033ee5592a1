// validate-openapi.mjs FILE - validate an OpenAPI document with
// @seriousme/openapi-schema-validator (the OpenAPI 3.1 meta-schema, and
// every $ref resolved).  Exit 0 valid; 1 invalid, the errors printed.
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
const validator = new Validator();
const res = await validator.validate(file);
if (!res.valid) {
  console.log(JSON.stringify(res.errors, null, 2).slice(0, 4000));
  process.exit(1);
}
if (validator.version !== "3.1") {
  console.log(`expected an OpenAPI 3.1 document, got ${validator.version}`);
  process.exit(1);
}
// every reference must resolve, not only the document's shape
try {
  validator.resolveRefs();
} catch (e) {
  console.log(`a $ref does not resolve: ${e.message}`);
  process.exit(1);
}
console.log(`valid OpenAPI ${validator.version}`);
