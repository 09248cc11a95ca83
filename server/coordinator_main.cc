// caviar-coordinator: stores studies and trials in SQLite and serves them
// over gRPC to the `caviar` CLI and to caviar-worker processes.
//
//   caviar-coordinator --listen 0.0.0.0:50051 --db caviar.db
//
// SIGTERM/SIGINT shut it down gracefully: running calls finish, leases are
// kept in the database, and a restart on the same file resumes every study.
// SIGHUP re-reads the token files (connections stay up).
//
// Secure by default: off loopback it needs tokens (--tokens-file, or
// --admin-token-file and --worker-token-file) or an explicit --insecure.
#include <libgen.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#ifdef CAVIAR_CRASH_POINTS
#include "tests/testing/crash_point_store.h"
#endif
#include "server/http/http_server.h"
#include "server/rpc/credentials.h"
#include "server/rpc/server.h"
#include "server/scheduling/coordinator.h"
#include "server/checkpoints/checkpoint_store.h"
#include "storage/checkpoint_index.h"
#include "storage/sqlite_store.h"
#include "common/trainer_settings/trainer_settings.h"

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:50051";
  std::string db = "caviar.db";
  int lease_seconds = 60;
  int max_retries = 2;
  std::string log_level = "info";
  bool durable_power_loss = false;
  std::string port_file;
  caviar::rpc::TokenFiles token_files;
  std::string tls_cert, tls_key, tls_client_ca;
  bool insecure = false;
  std::string http_listen, http_port_file;
  caviar::checkpoints::CheckpointLimits checkpoint_limits;

  CLI::App app{"caviar-coordinator: the caviar hyperparameter tuning service"};
  app.add_option("--listen", listen,
                 "HOST:PORT to serve gRPC on (port 0 = any free port)")
      ->capture_default_str();
  app.add_option("--db", db, "SQLite database file (created if missing)")
      ->capture_default_str();
  app.add_option("--lease-seconds", lease_seconds,
                 "Default trial lease: a worker silent this long loses its trial")
      ->capture_default_str()
      ->check(CLI::Range(1, 7 * 24 * 3600));
  app.add_option("--max-retries", max_retries,
                 "Default re-runs of a trial whose worker vanished")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  app.add_option("--max-checkpoint-bytes", checkpoint_limits.max_checkpoint_bytes,
                 "Largest checkpoint a worker may upload (stored in DB.checkpoints/)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-study-checkpoint-bytes", checkpoint_limits.max_study_bytes,
                 "Most bytes of checkpoints kept for one study")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--log-level", log_level, "debug, info, warning or error")
      ->capture_default_str();
  app.add_flag("--fsync", durable_power_loss,
               "fsync every commit (survive power loss, not only process kills)");
  app.add_option("--port-file", port_file,
                 "Write the bound port to this file once serving (for --listen ...:0)");
  app.add_option("--tokens-file", token_files.tokens_file,
                 "Credentials, one per line: ROLE NAME TOKEN (roles admin, worker, "
                 "viewer; see the README's Security section); re-read on SIGHUP")
      ->check(CLI::ExistingFile);
  app.add_option("--worker-token-file", token_files.worker_token_file,
                 "A single worker token (the credential \"worker\")")
      ->check(CLI::ExistingFile);
  app.add_option("--admin-token-file", token_files.admin_token_file,
                 "A single admin token (the credential \"admin\")")
      ->check(CLI::ExistingFile);
  app.add_option("--http", http_listen,
                 "HOST:PORT to serve the read-only JSON API and Prometheus /metrics on "
                 "(off by default; port 0 = any free port; same tokens, viewer is enough)");
  app.add_option("--http-port-file", http_port_file,
                 "Write the bound HTTP port to this file once serving");
  app.add_flag("--insecure", insecure,
               "Serve a non-loopback address without tokens (anyone who reaches it "
               "can run commands on every worker)");
  app.add_option("--tls-cert", tls_cert,
                 "PEM certificate chain: serve TLS (with --tls-key)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-client-ca", tls_client_ca,
                 "PEM CA of client certificates: mutual TLS, worker calls must present "
                 "a certificate it signed (needs --tls-cert)")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  if (tls_cert.empty() != tls_key.empty()) {
    std::fprintf(stderr, "--tls-cert and --tls-key go together\n");
    return 2;
  }
  if (!tls_client_ca.empty() && tls_cert.empty()) {
    std::fprintf(stderr, "--tls-client-ca needs --tls-cert and --tls-key\n");
    return 2;
  }
  // Before the database is touched: a refused start creates nothing.
  if (token_files.empty() && !insecure &&
      !caviar::rpc::IsLoopbackListenAddress(listen)) {
    std::fprintf(stderr,
                 "caviar-coordinator: refusing to listen on %s without tokens: it is "
                 "not a loopback address, and whoever can create a study runs commands "
                 "on every worker. Give --tokens-file (or --admin-token-file and "
                 "--worker-token-file), or --insecure to serve it open anyway\n",
                 listen.c_str());
    return 2;
  }
  if (!http_listen.empty() && token_files.empty() && !insecure &&
      !caviar::rpc::IsLoopbackListenAddress(http_listen)) {
    std::fprintf(stderr,
                 "caviar-coordinator: refusing to serve HTTP on %s without tokens: it is "
                 "not a loopback address. Give --tokens-file (viewer tokens are enough "
                 "there), serve HTTP on 127.0.0.1, or --insecure to serve it open "
                 "anyway\n",
                 http_listen.c_str());
    return 2;
  }
  auto credentials = caviar::rpc::LoadCredentials(token_files);
  if (!credentials.ok()) {
    std::fprintf(stderr, "caviar-coordinator: %s\n",
                 std::string(credentials.status().message()).c_str());
    return 2;
  }

  caviar::LogLevel level;
  if (!caviar::ParseLogLevel(log_level, &level)) {
    std::fprintf(stderr, "--log-level: unknown level \"%s\"\n", log_level.c_str());
    return 2;
  }
  caviar::SetLogLevel(level);
  // Debian's Abseil checks every lock order at run time; our lock order is
  // flat (one mutex per layer), so skip the cost on every call.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Signals are taken by a dedicated thread (sigwait), so block them in all.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  caviar::storage::SqliteStore::Options store_options;
  if (durable_power_loss) {
    store_options.durability = caviar::storage::SqliteStore::Durability::kPowerLoss;
  }
  auto store = caviar::storage::SqliteStore::Open(db, store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "caviar-coordinator: %s: %s\n", db.c_str(),
                 std::string(store.status().message()).c_str());
    return 1;
  }
  caviar::storage::Store* coordinator_store = store->get();
#ifdef CAVIAR_CRASH_POINTS
  // Test build only: die at the commit CAVIAR_CRASH_AT names.
  auto crash_points = caviar::testing::CrashPointStore::FromEnvironment(coordinator_store);
  if (crash_points != nullptr) coordinator_store = crash_points.get();
#endif
  caviar::scheduling::CoordinatorOptions options;
  options.default_lease = absl::Seconds(lease_seconds);
  options.default_max_retries = max_retries;
  // The lease reaper runs every second: a longer gap is a stall of ours.
  options.stall_threshold = absl::Seconds(3);
  options.objective_validator = caviar::trainer_settings::ValidateTrainerSpec;
  auto coordinator = caviar::scheduling::Coordinator::Create(
      coordinator_store, caviar::Clock::Real(), options);
  if (!coordinator.ok()) {
    // Loading failed after the file opened (a damaged page): name the file.
    std::fprintf(stderr, "caviar-coordinator: %s: %s\n", db.c_str(),
                 std::string(coordinator.status().message()).c_str());
    return 1;
  }
  // Checkpoints live next to the database, indexed in it.
  caviar::storage::CheckpointIndex checkpoint_index(store->get());
  auto checkpoints = caviar::checkpoints::CheckpointStore::Open(
      caviar::checkpoints::CheckpointDirFor(db), &checkpoint_index, caviar::Clock::Real(),
      checkpoint_limits);
  if (!checkpoints.ok()) {
    std::fprintf(stderr, "caviar-coordinator: %s\n",
                 std::string(checkpoints.status().message()).c_str());
    return 1;
  }
  caviar::rpc::ServerOptions server_options;
  server_options.listen = listen;
  server_options.credentials = *std::move(credentials);
  server_options.insecure = insecure;
  server_options.database = store->get();
  server_options.checkpoints = checkpoints->get();
  {
    std::string db_copy = db;
    server_options.backup_dir = ::dirname(db_copy.data());
  }
  for (auto [path, out] : {std::pair{&tls_cert, &server_options.tls_certificate_chain},
                           std::pair{&tls_key, &server_options.tls_private_key},
                           std::pair{&tls_client_ca, &server_options.tls_client_ca}}) {
    if (path->empty()) continue;
    std::ifstream in(*path);
    std::stringstream pem;
    pem << in.rdbuf();
    *out = pem.str();
  }
  auto server = caviar::rpc::CoordinatorServer::Start(coordinator->get(), server_options);
  if (!server.ok()) {
    std::fprintf(stderr, "caviar-coordinator: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  CAVIAR_LOG(INFO) << "caviar-coordinator serving on " << (*server)->address() << ", db "
                   << db;
  std::unique_ptr<caviar::http::HttpServer> http;
  if (!http_listen.empty()) {
    caviar::http::HttpOptions http_options;
    http_options.listen = http_listen;
    http_options.insecure = insecure;
    http_options.tls_cert_file = tls_cert;
    http_options.tls_key_file = tls_key;
    http_options.database_path = db;
    http_options.checkpoints = checkpoints->get();
    auto started = caviar::http::HttpServer::Start(
        coordinator->get(), (*server)->authorizer(), (*server)->audit_log(), http_options);
    if (!started.ok()) {
      std::fprintf(stderr, "caviar-coordinator: %s\n",
                   std::string(started.status().message()).c_str());
      return 1;
    }
    http = *std::move(started);
    CAVIAR_LOG(INFO) << "HTTP (JSON API, /metrics) on " << http->url();
  }
  for (auto [file, port] : {std::pair{&http_port_file, http ? http->port() : 0},
                            std::pair{&port_file, (*server)->port()}}) {
    if (file->empty()) continue;
    const std::string tmp = *file + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr || std::fprintf(f, "%d\n", port) < 0 || std::fclose(f) != 0 ||
        std::rename(tmp.c_str(), file->c_str()) != 0) {
      std::fprintf(stderr, "caviar-coordinator: cannot write %s\n", file->c_str());
      return 1;
    }
  }
  std::thread signal_thread([&] {
    int signal_number = 0;
    while (sigwait(&signals, &signal_number) == 0 && signal_number == SIGHUP) {
      auto reloaded = caviar::rpc::LoadCredentials(token_files);
      absl::Status replaced =
          reloaded.ok() ? (*server)->ReplaceCredentials(*std::move(reloaded))
                        : reloaded.status();
      if (replaced.ok()) {
        CAVIAR_LOG(INFO) << "SIGHUP: token files re-read";
      } else {
        CAVIAR_LOG(ERROR) << "SIGHUP: keeping the old tokens: " << replaced.message();
      }
    }
    CAVIAR_LOG(INFO) << "signal " << signal_number << ": shutting down";
    if (http != nullptr) http->Shutdown();
    (*server)->Shutdown(absl::Seconds(5));
  });
  (*server)->Wait();
  signal_thread.join();
  CAVIAR_LOG(INFO) << "caviar-coordinator stopped";
  return 0;
}
