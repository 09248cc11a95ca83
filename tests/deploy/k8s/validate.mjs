// Validates rendered Kubernetes manifests offline (tests/deploy/k8s_test.sh):
//  1. every object against its Kubernetes schema (npm kubernetes-models:
//     types, required fields, formats), and
//  2. strictly: every field name must exist in the API (the schemas accept
//     unknown keys, so a typo such as `readinesProbe` would pass them). The
//     field lists come from the same package's type declarations.
//   node validate.mjs RENDERED.yaml...
// Prints one line per object; exits 1 on any error.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import * as models from "kubernetes-models";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// Interface name -> {field: type text}, from every .d.ts of the models.
function loadFieldTables() {
  const roots = [
    path.dirname(require.resolve("kubernetes-models/package.json")),
    path.join(here, "node_modules/@kubernetes-models/apimachinery"),
  ];
  const tables = new Map();
  const aliases = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") walk(full);
      } else if (entry.name.endsWith(".d.ts")) {
        parseDeclarations(fs.readFileSync(full, "utf8"), tables, aliases);
      }
    }
  };
  roots.forEach(walk);
  for (const [alias, name] of aliases) {
    if (tables.has(name) && !tables.has(alias)) tables.set(alias, tables.get(name));
  }
  return tables;
}

function parseDeclarations(text, tables, aliases) {
  const interfaceRe = /export interface (\w+)(?: extends [\w, ]+)? \{([\s\S]*?)\n\}/g;
  for (const m of text.matchAll(interfaceRe)) {
    const fields = {};
    const body = m[2].replace(/\/\*\*[\s\S]*?\*\//g, "");
    for (const f of body.matchAll(/^\s+"([^"]+)"\??: ([\s\S]*?);\s*$/gm)) {
      fields[f[1]] = f[2].trim();
    }
    tables.set(m[1], fields);
  }
  for (const m of text.matchAll(/export \{([^}]*)\}/g)) {
    for (const part of m[1].split(",")) {
      const [name, alias] = part.trim().split(/\s+as\s+/);
      if (alias) aliases.push([alias, name]);
    }
  }
}

// Checks `value` (of declared type text `type`) for unknown field names.
function strictCheck(value, type, where, tables, errors) {
  if (value === null || typeof value !== "object") return;
  const array = type.match(/^Array<(.+)>$/);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => strictCheck(v, array[1], `${where}[${i}]`, tables, errors));
    return;
  }
  const map = type.match(/^\{\s*\[key: string\]: (.+?);?\s*\}$/);
  if (map) {
    for (const [k, v] of Object.entries(value)) strictCheck(v, map[1], `${where}.${k}`, tables, errors);
    return;
  }
  const fields = tables.get(type);
  if (!fields || Array.isArray(value)) return;  // a scalar type, IntOrString, Quantity...
  for (const [k, v] of Object.entries(value)) {
    if (!(k in fields)) {
      errors.push(`${where}: unknown field "${k}" (known: ${Object.keys(fields).join(", ")})`);
    } else {
      strictCheck(v, fields[k], `${where}.${k}`, tables, errors);
    }
  }
}

// The model class of apiVersion/kind, searched through the package's
// group/version namespaces (models.apps.v1.StatefulSet, models.v1.Service...).
function modelFor(apiVersion, kind, scope = models, depth = 0) {
  for (const value of Object.values(scope)) {
    if (typeof value === "function" && value.apiVersion === apiVersion && value.kind === kind) {
      return value;
    }
    if (value && typeof value === "object" && depth < 3) {
      const found = modelFor(apiVersion, kind, value, depth + 1);
      if (found) return found;
    }
  }
  return null;
}

const tables = loadFieldTables();
let failed = 0;
let count = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))) {
    const object = doc.toJS();
    if (!object) continue;
    count++;
    const name = `${path.basename(file)}: ${object.kind}/${object.metadata?.name}`;
    const errors = doc.errors.map((e) => e.message);
    const Model = modelFor(object.apiVersion, object.kind);
    if (!Model) {
      errors.push(`no schema for ${object.apiVersion} ${object.kind}`);
    } else {
      try {
        new Model(object).validate();
      } catch (e) {
        errors.push(`schema: ${e.message}`);
      }
      const kindType = `I${object.kind}`;
      if (!tables.has(kindType)) errors.push(`no field table for ${kindType}`);
      strictCheck(object, kindType, object.kind, tables, errors);
    }
    console.log(`${errors.length ? "FAIL" : "ok  "} ${name}`);
    for (const e of errors) console.log(`     ${e}`);
    if (errors.length) failed++;
  }
}
if (count === 0) {
  console.log("no objects");
  process.exit(1);
}
console.log(`${count - failed} valid, ${failed} invalid`);
process.exit(failed ? 1 : 0);
