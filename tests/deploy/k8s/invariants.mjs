// caviar's own rules for its rendered Kubernetes manifests
// (tests/deploy/k8s_test.sh): one coordinator replica with its SQLite file on
// the claimed volume, native gRPC probes on the port it listens on, tokens
// from the mounted Secret, non-root pods, workers that reach the Service and
// send the worker token, and an Indexed Job that never restarts pods.
//   node invariants.mjs RENDERED.yaml...   (exits 1 on a broken rule)
import fs from "node:fs";
import YAML from "yaml";

const SECRET = "caviar-tokens";
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};
const flag = (args, name) => {
  const prefix = `--${name}=`;
  const arg = (args ?? []).find((a) => a.startsWith(prefix));
  return arg?.slice(prefix.length);
};

function checkPod(where, pod, container) {
  check(pod.securityContext?.runAsNonRoot === true, `${where}: runAsNonRoot`);
  check(container.securityContext?.allowPrivilegeEscalation === false,
        `${where}: allowPrivilegeEscalation false`);
  check(container.resources?.requests && container.resources?.limits,
        `${where}: resources requests and limits`);
}

function checkCoordinator(where, set, services) {
  check(set.spec.replicas === 1, `${where}: replicas must be 1 (SQLite has one writer)`);
  const pod = set.spec.template.spec;
  const c = pod.containers[0];
  checkPod(where, pod, c);
  const port = Number(flag(c.args, "listen")?.split(":").pop());
  check(port > 0, `${where}: --listen=HOST:PORT`);
  const grpcPort = c.ports?.find((p) => p.name === "grpc")?.containerPort;
  check(grpcPort === port, `${where}: containerPort grpc (${grpcPort}) = --listen port (${port})`);
  for (const probe of ["readinessProbe", "livenessProbe"]) {
    check(c[probe]?.grpc?.port === port, `${where}: ${probe} is a native gRPC probe on ${port}`);
  }
  const claim = set.spec.volumeClaimTemplates?.[0]?.metadata?.name;
  check(claim, `${where}: a volumeClaimTemplate`);
  const dataMount = c.volumeMounts?.find((m) => m.name === claim);
  const db = flag(c.args, "db");
  check(dataMount && db?.startsWith(dataMount.mountPath + "/"),
        `${where}: --db (${db}) on the claimed volume (${dataMount?.mountPath})`);
  const tokenVolume = pod.volumes?.find((v) => v.secret?.secretName === SECRET);
  const tokenMount = c.volumeMounts?.find((m) => m.name === tokenVolume?.name);
  check(tokenMount, `${where}: Secret ${SECRET} mounted`);
  const mode = tokenVolume?.secret?.defaultMode ?? 0o644;
  check((mode & 0o007) === 0, `${where}: the Secret's files not readable by others ` +
        `(defaultMode ${mode.toString(8)}: the coordinator refuses such token files)`);
  for (const f of ["admin-token-file", "worker-token-file"]) {
    check(flag(c.args, f)?.startsWith(`${tokenMount?.mountPath}/`),
          `${where}: --${f} read from the Secret's mount`);
  }
  const labels = set.spec.template.metadata.labels;
  const service = services.find((s) =>
    Object.entries(s.spec.selector ?? {}).every(([k, v]) => labels[k] === v));
  check(service, `${where}: a Service selects the coordinator's pods`);
  check(service?.spec.ports.some((p) => p.targetPort === "grpc" || p.targetPort === port),
        `${where}: the Service targets the gRPC port`);
  return service;
}

function checkWorkers(where, pod, service) {
  const c = pod.containers[0];
  checkPod(where, pod, c);
  const address = flag(c.args, "coordinator");
  const servicePort = service?.spec.ports[0].port;
  check(address === `${service?.metadata.name}:${servicePort}`,
        `${where}: --coordinator (${address}) is the Service`);
  const token = c.env?.find((e) => e.name === "CAVIAR_TOKEN")?.valueFrom?.secretKeyRef;
  check(token?.name === SECRET && token?.key === "worker.token",
        `${where}: CAVIAR_TOKEN from Secret ${SECRET} key worker.token`);
}

for (const file of process.argv.slice(2)) {
  const objects = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))
    .map((d) => d.toJS()).filter(Boolean);
  const of = (kind) => objects.filter((o) => o.kind === kind);
  const sets = of("StatefulSet");
  const services = of("Service");
  let service = null;
  check(sets.length <= 1, `${file}: at most one coordinator StatefulSet`);
  for (const s of sets) service = checkCoordinator(`${file}: StatefulSet ${s.metadata.name}`, s, services);
  // A workers-only base: the coordinator's Service is the one named in --coordinator.
  service ??= { metadata: { name: "caviar-coordinator" }, spec: { ports: [{ port: 50051 }] } };
  for (const job of of("Job")) {
    const where = `${file}: Job ${job.metadata.name}`;
    check(job.spec.completionMode === "Indexed", `${where}: completionMode Indexed`);
    check(job.spec.template.spec.restartPolicy === "Never", `${where}: restartPolicy Never`);
    check(job.spec.parallelism >= 1, `${where}: parallelism >= 1`);
    checkWorkers(where, job.spec.template.spec, service);
  }
  for (const d of of("Deployment")) {
    checkWorkers(`${file}: Deployment ${d.metadata.name}`, d.spec.template.spec, service);
  }
  console.log(`${file}: ${objects.length} objects checked`);
}
for (const f of failures) console.log(`FAIL ${f}`);
process.exit(failures.length ? 1 : 0);
