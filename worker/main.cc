// caviar-worker: runs trials for a caviar coordinator until told to stop.
//
//   caviar-worker --coordinator HOST:PORT [--id NAME] [--study NAME]
//                 [--max-trials N] [--exit-when-idle SECONDS]
//                 [--rpc-timeout SECONDS] [--tls-ca FILE]
//                 [--tls-cert FILE --tls-key FILE]   (mutual TLS)
//                 [--log-level debug|info|warning|error]
//
// The bearer token, when the coordinator requires one, is read from
// CAVIAR_TOKEN.
//
// Exit status: 0 when the loop ends normally (max trials, the named study
// has no more work, idle, SIGTERM/SIGINT); 1 on a fatal coordinator error;
// 2 on bad flags. A second SIGTERM/SIGINT exits at once.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "grpcpp/security/credentials.h"
#include "worker/coordinator_channel.h"
#include "worker/objective_factory.h"
#include "worker/worker_loop.h"

namespace {

std::string DefaultWorkerId() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] ? host : "worker", "-", ::getpid());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"caviar-worker: runs trials of caviar studies"};
  std::string coordinator;
  caviar::worker::WorkerOptions options;
  double exit_when_idle = 0;
  double rpc_timeout = 10;
  std::string log_level = "info";
  std::string tls_ca, tls_cert, tls_key;
  app.add_option("--coordinator", coordinator, "Coordinator address HOST:PORT")
      ->required();
  app.add_option("--id", options.worker_id, "Worker id (default: hostname-pid)");
  app.add_option("--study", options.study,
                 "Work only on this study, and exit when it has no more work");
  app.add_option("--max-trials", options.max_trials,
                 "Exit after this many trials (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--exit-when-idle", exit_when_idle,
                 "Exit after this many seconds without a trial (0: never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rpc-timeout", rpc_timeout, "Deadline of each RPC in seconds")
      ->check(CLI::PositiveNumber);
  app.add_option("--tls-ca", tls_ca, "PEM root certificates: connect with TLS")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-cert", tls_cert,
                 "PEM client certificate, for a coordinator with --tls-client-ca "
                 "(with --tls-key and --tls-ca)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--log-level", log_level, "debug, info, warning or error")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (tls_cert.empty() != tls_key.empty() || (!tls_cert.empty() && tls_ca.empty())) {
    std::fprintf(stderr, "--tls-cert and --tls-key go together, with --tls-ca\n");
    return 2;
  }
  caviar::LogLevel level;
  caviar::ParseLogLevel(log_level, &level);
  caviar::SetLogLevel(level);
  if (options.worker_id.empty()) options.worker_id = DefaultWorkerId();
  options.run_kinds = caviar::worker::RunnableKinds();
  options.exit_when_idle = absl::Seconds(exit_when_idle);
  options.rpc_timeout = absl::Seconds(rpc_timeout);

  // Block the stop signals in every thread (gRPC's included, which start
  // later and inherit the mask); one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A command that closes its end early must not kill the worker.
  signal(SIGPIPE, SIG_IGN);

  if (const char* token = std::getenv("CAVIAR_TOKEN")) options.token = token;
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (!tls_ca.empty()) {
    std::ifstream in(tls_ca);
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in || pem.str().empty()) {
      std::fprintf(stderr, "--tls-ca: cannot read %s\n", tls_ca.c_str());
      return 2;
    }
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    if (!tls_cert.empty()) {
      std::stringstream cert, key;
      cert << std::ifstream(tls_cert).rdbuf();
      key << std::ifstream(tls_key).rdbuf();
      ssl.pem_cert_chain = cert.str();
      ssl.pem_private_key = key.str();
    }
    credentials = grpc::SslCredentials(ssl);
  }
  caviar::worker::WorkerLoop loop(
      caviar::worker::CoordinatorChannel(coordinator, credentials),
      caviar::worker::MakeObjectiveFactory(), options);
  std::thread([&loop, stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    CAVIAR_LOG(INFO) << "signal " << signal_number
                     << ": stopping the running trial and exiting (again to exit now)";
    loop.Shutdown();
    sigwait(&stop_signals, &signal_number);
    std::_Exit(1);
  }).detach();

  absl::StatusOr<caviar::worker::ExitReason> result = loop.Run();
  if (!result.ok()) {
    CAVIAR_LOG(ERROR) << "worker " << options.worker_id
                      << " exiting: " << result.status();
    return 1;
  }
  CAVIAR_LOG(INFO) << "worker " << options.worker_id << " exiting after "
                   << loop.trials_run()
                   << " trial(s): " << caviar::worker::ExitReasonName(*result);
  return 0;
}
