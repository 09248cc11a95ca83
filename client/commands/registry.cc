#include "absl/time/time.h"
#include "client/commands/command.h"

namespace caviar::cli {

const std::vector<Registrar>& AllCommands() {
  static const std::vector<Registrar> commands = {
      RegisterSubmit,  RegisterStudies, RegisterStudy,      RegisterTrials,
      RegisterTrial,   RegisterBest,    RegisterStop,       RegisterWait,
      RegisterWatch,
      RegisterRegions, RegisterRefine,  RegisterImportance, RegisterEnqueue,
      RegisterRetest,  RegisterDrift,   RegisterNudge,      RegisterBackup,
      RegisterExport,  RegisterCompletion,
      RegisterRollback, RegisterPause,  RegisterResume,
  };
  return commands;
}

absl::StatusOr<client::CaviarClient*> Context::Client() {
  if (client_ == nullptr) {
    client::ClientOptions client_options;
    client_options.timeout = absl::Seconds(options.timeout_seconds);
    client_options.tls_root_certificates_file = options.tls_root_certificates_file;
    absl::StatusOr<std::unique_ptr<client::CaviarClient>> connected =
        client::CaviarClient::Connect(options.coordinator, client_options);
    if (!connected.ok()) return connected.status();
    client_ = std::move(*connected);
  }
  return client_.get();
}

void AddFormatOption(CLI::App* command, std::string* format,
                     const std::vector<std::string>& choices) {
  *format = choices.front();
  command->add_option("--format", *format, "Output format")
      ->check(CLI::IsMember(choices))
      ->capture_default_str();
}

}  // namespace caviar::cli
