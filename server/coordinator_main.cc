// caviar-coordinator: stores studies and trials in SQLite and serves them
// over gRPC to the `caviar` CLI and to caviar-worker processes.
//
//   caviar-coordinator --listen 0.0.0.0:50051 --db caviar.db
//
// SIGTERM/SIGINT shut it down gracefully: running calls finish, leases are
// kept in the database, and a restart on the same file resumes every study.
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
#include "server/rpc/auth.h"
#include "server/rpc/server.h"
#include "server/scheduling/coordinator.h"
#include "storage/sqlite_store.h"
#ifdef CAVIAR_HAVE_TRAINER
#include "worker/trainer_objective.h"
#endif

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:50051";
  std::string db = "caviar.db";
  int lease_seconds = 60;
  int max_retries = 2;
  std::string log_level = "info";
  bool durable_power_loss = false;
  std::string port_file;
  std::string worker_token_file, admin_token_file, tls_cert, tls_key;

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
  app.add_option("--log-level", log_level, "debug, info, warning or error")
      ->capture_default_str();
  app.add_flag("--fsync", durable_power_loss,
               "fsync every commit (survive power loss, not only process kills)");
  app.add_option("--port-file", port_file,
                 "Write the bound port to this file once serving (for --listen ...:0)");
  app.add_option("--worker-token-file", worker_token_file,
                 "Workers must send this file's token (CAVIAR_TOKEN); unset = open")
      ->check(CLI::ExistingFile);
  app.add_option("--admin-token-file", admin_token_file,
                 "Users (the StudyService) must send this file's token; unset = open")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-cert", tls_cert,
                 "PEM certificate chain: serve TLS (with --tls-key)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  if (tls_cert.empty() != tls_key.empty()) {
    std::fprintf(stderr, "--tls-cert and --tls-key go together\n");
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
  caviar::scheduling::CoordinatorOptions options;
  options.default_lease = absl::Seconds(lease_seconds);
  options.default_max_retries = max_retries;
#ifdef CAVIAR_HAVE_TRAINER
  options.objective_validator = caviar::worker::ValidateTrainerSpec;
#endif
  auto coordinator = caviar::scheduling::Coordinator::Create(
      store->get(), caviar::Clock::Real(), options);
  if (!coordinator.ok()) {
    std::fprintf(stderr, "caviar-coordinator: %s\n",
                 std::string(coordinator.status().message()).c_str());
    return 1;
  }
  caviar::rpc::ServerOptions server_options;
  server_options.listen = listen;
  for (auto [path, out] : {std::pair{&worker_token_file, &server_options.worker_token},
                           std::pair{&admin_token_file, &server_options.admin_token}}) {
    if (path->empty()) continue;
    auto token = caviar::rpc::ReadTokenFile(*path);
    if (!token.ok()) {
      std::fprintf(stderr, "caviar-coordinator: %s\n",
                   std::string(token.status().message()).c_str());
      return 2;
    }
    *out = *token;
  }
  for (auto [path, out] : {std::pair{&tls_cert, &server_options.tls_certificate_chain},
                           std::pair{&tls_key, &server_options.tls_private_key}}) {
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
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr || std::fprintf(f, "%d\n", (*server)->port()) < 0 ||
        std::fclose(f) != 0 || std::rename(tmp.c_str(), port_file.c_str()) != 0) {
      std::fprintf(stderr, "caviar-coordinator: cannot write %s\n", port_file.c_str());
      return 1;
    }
  }
  std::thread signal_thread([&] {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    CAVIAR_LOG(INFO) << "signal " << signal_number << ": shutting down";
    (*server)->Shutdown(absl::Seconds(5));
  });
  (*server)->Wait();
  signal_thread.join();
  CAVIAR_LOG(INFO) << "caviar-coordinator stopped";
  return 0;
}
