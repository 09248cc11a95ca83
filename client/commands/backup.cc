// caviar backup FILE: an online copy of the coordinator's database (admin
// token). The coordinator copies its SQLite file with SQLite's backup API
// while it keeps serving, checks the copy (integrity_check), and streams it;
// this command writes it to FILE.partial, fsyncs it and renames it to FILE,
// so FILE is only ever a complete copy. Restore: caviar-coordinator --db FILE.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "caviar/v1/service.grpc.pb.h"
#include "client/commands/command.h"
#include "common/status_macros.h"
#include "grpcpp/client_context.h"

namespace caviar::cli {
namespace {

// A backup streams the whole database: allow it much longer than one call.
constexpr double kMinBackupSeconds = 3600;

absl::Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat(path, ": write failed"));
    done += n;
  }
  return absl::OkStatus();
}

absl::Status Backup(Context& context, const std::string& file) {
  struct stat info;
  if (::stat(file.c_str(), &info) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat(file, ": exists; caviar backup never overwrites a file"));
  }
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  auto stub = caviar::v1::AdminService::NewStub(client->channel());
  grpc::ClientContext rpc;
  rpc.set_deadline(absl::ToChronoTime(
      absl::Now() +
      absl::Seconds(std::max(context.options.timeout_seconds, kMinBackupSeconds))));
  if (const char* token = std::getenv("CAVIAR_TOKEN"); token != nullptr && *token) {
    rpc.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  const std::string partial = file + ".partial";
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(partial,
                                               ": cannot create (exists, or "
                                               "the folder is not writable)"));
  }
  auto reader = stub->Backup(&rpc, caviar::v1::BackupRequest());
  caviar::v1::BackupChunk chunk;
  int64_t expected = -1, written = 0;
  absl::Status status;
  while (status.ok() && reader->Read(&chunk)) {
    if (expected < 0) expected = chunk.total_bytes();
    status = WriteAll(fd, chunk.data(), partial);
    written += chunk.data().size();
  }
  if (!status.ok()) rpc.TryCancel();
  const grpc::Status finished = reader->Finish();
  if (status.ok() && !finished.ok()) {
    status = absl::Status(
        static_cast<absl::StatusCode>(finished.error_code()),
        absl::StrCat(finished.error_code() == grpc::StatusCode::UNAVAILABLE
                         ? absl::StrCat("coordinator at ", client->address(), ": ")
                         : "",
                     finished.error_message()));
  }
  if (status.ok() && written != expected) {
    status = absl::DataLossError(absl::StrCat("the backup stream ended after ", written,
                                              " of ", expected, " bytes"));
  }
  if (status.ok() && ::fsync(fd) != 0) {
    status = absl::UnavailableError(absl::StrCat(partial, ": fsync failed"));
  }
  ::close(fd);
  if (status.ok() && std::rename(partial.c_str(), file.c_str()) != 0) {
    status =
        absl::UnavailableError(absl::StrCat("cannot rename ", partial, " to ", file));
  }
  if (!status.ok()) {
    ::unlink(partial.c_str());
    return status;
  }
  std::cout << file << ": " << written
            << " bytes, checked by the coordinator (restore: caviar-coordinator --db "
            << file << ")\n";
  return absl::OkStatus();
}

}  // namespace

void RegisterBackup(CLI::App& app, Context& context) {
  auto file = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "backup",
      "Copy the coordinator's database to FILE while it runs (admin token); start a "
      "coordinator with --db FILE to restore");
  command->add_option("file", *file, "Where to write the copy (must not exist)")
      ->required()
      ->type_name("FILE");
  command->callback([&context, file] {
    context.action = [&context, file] { return Backup(context, *file); };
  });
}

}  // namespace caviar::cli
