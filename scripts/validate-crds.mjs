// Validates custom resources against the schemas of their published CRDs,
// as compiled into the @kubernetes-models packages (npm):
// @kubernetes-models/prometheus-operator (ServiceMonitor, PrometheusRule) and
// @kubernetes-models/keda (ScaledObject, TriggerAuthentication).
//
//   node validate-crds.mjs NODE_MODULES_DIR < docs.json
//
// Reads a JSON array of {source, doc} objects, prints one line per resource,
// exits 1 if any fails or has no known schema.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const MODELS = {
  "monitoring.coreos.com/v1/ServiceMonitor": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor.js",
  "monitoring.coreos.com/v1/PrometheusRule": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule.js",
  "keda.sh/v1alpha1/ScaledObject": "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject.js",
  "keda.sh/v1alpha1/TriggerAuthentication": "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication.js",
};

const modules = process.argv[2];
if (!modules) {
  console.error("usage: node validate-crds.mjs NODE_MODULES_DIR < docs.json");
  process.exit(2);
}
const items = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const { source, doc } of items) {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const name = `${source}: ${doc.kind}/${doc.metadata?.name}`;
  const path = MODELS[key];
  if (!path) {
    console.log(`FAIL ${name}: no published schema known for ${key}`);
    failed++;
    continue;
  }
  const module = await import(pathToFileURL(join(modules, path)).href);
  const Model = module[doc.kind];
  try {
    new Model(doc).validate();
    console.log(`ok   ${name} (schema of ${key})`);
  } catch (err) {
    console.log(`FAIL ${name}: ${err.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
