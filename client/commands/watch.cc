// caviar watch NAME | --trial ID [--plain] [--unavailable-grace S]
//
// A live view of a study (or one trial) fed by StudyService.Watch: the
// coordinator pushes a snapshot, then every committed change; nothing is
// polled. On a terminal the view is redrawn in place; otherwise (or with
// --plain) it prints one line per event, for logs. When the stream breaks
// (a coordinator restart) it says "reconnecting..." and reconnects with
// backoff (0.1 s doubling to 2 s), resyncing from a new snapshot; a stream
// silent for longer than kSilenceLimit (the coordinator sends a heartbeat
// every 2 s) counts as broken. Exit 0 when the study ends (or the trial
// finishes), 1 when the coordinator stays unreachable for
// --unavailable-grace seconds or refuses the watch.
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/commands/command.h"
#include "client/watch_view.h"
#include "common/grpc_status/grpc_status.h"
#include "common/status_macros.h"
#include "grpcpp/client_context.h"

namespace caviar::cli {
namespace {

constexpr absl::Duration kSilenceLimit = absl::Seconds(10);
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(2);
constexpr absl::Duration kRedrawEvery = absl::Milliseconds(100);

struct WatchOptions {
  std::string study;
  int64_t trial_id = 0;
  bool plain = false;
  double unavailable_grace_seconds = 60;
};

// Where the view goes: a redrawn frame on a terminal, lines otherwise.
class Screen {
 public:
  explicit Screen(bool redraw) : redraw_(redraw) {
    if (redraw_) std::cout << "\033[2J" << std::flush;
  }
  void Show(const client::WatchView& view, const std::vector<std::string>& lines,
            const std::string& status, bool force) {
    if (!redraw_) {
      for (const std::string& line : lines) std::cout << line << "\n";
      std::cout << std::flush;
      return;
    }
    const absl::Time now = absl::Now();
    if (!force && now - last_draw_ < kRedrawEvery) return;
    last_draw_ = now;
    int width = 100, height = 30;
    winsize size;
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
      width = size.ws_col;
      height = size.ws_row;
    }
    std::string frame = "\033[H";
    for (const std::string& line : view.Frame(width, height - 1))
      absl::StrAppend(&frame, line, "\033[K\n");
    absl::StrAppend(&frame, status, "\033[K\033[J");
    std::cout << frame << std::flush;
  }
  // A line about the connection itself.
  void Status(const client::WatchView& view, const std::string& status) {
    if (redraw_) {
      Show(view, {}, status, /*force=*/true);
    } else {
      std::cout << status << "\n" << std::flush;
    }
  }
  bool redraw() const { return redraw_; }

 private:
  const bool redraw_;
  absl::Time last_draw_ = absl::InfinitePast();
};

bool Permanent(grpc::StatusCode code) {
  return code == grpc::StatusCode::NOT_FOUND ||
         code == grpc::StatusCode::INVALID_ARGUMENT ||
         code == grpc::StatusCode::UNAUTHENTICATED ||
         code == grpc::StatusCode::PERMISSION_DENIED ||
         code == grpc::StatusCode::UNIMPLEMENTED;
}

absl::Status RunWatch(Context& context, const WatchOptions& options) {
  caviar::v1::WatchRequest request;
  request.set_study(options.study);
  request.set_trial_id(options.trial_id);
  client::WatchView view(options.trial_id);
  Screen screen(!options.plain && isatty(STDOUT_FILENO) == 1);
  absl::Duration backoff = kFirstBackoff;
  std::optional<absl::Time> unreachable_since;
  while (true) {
    CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
    auto stub = caviar::v1::StudyService::NewStub(client->channel());
    grpc::ClientContext rpc;
    if (const char* token = std::getenv("CAVIAR_TOKEN"); token != nullptr && *token)
      rpc.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    // A stream that goes silent (a partition, a frozen coordinator) is
    // broken: the watchdog cancels it.
    std::atomic<int64_t> last_heard{absl::ToUnixMillis(absl::Now())};
    absl::Notification stream_over;
    std::thread watchdog([&] {
      while (!stream_over.WaitForNotificationWithTimeout(absl::Seconds(1))) {
        if (absl::Now() - absl::FromUnixMillis(last_heard.load()) > kSilenceLimit) {
          rpc.TryCancel();
          return;
        }
      }
    });
    auto reader = stub->Watch(&rpc, request);
    caviar::v1::WatchEvent event;
    while (reader->Read(&event)) {
      last_heard = absl::ToUnixMillis(absl::Now());
      unreachable_since.reset();
      backoff = kFirstBackoff;
      std::vector<std::string> lines = view.Apply(event);
      screen.Show(view, lines, "", event.kind() != caviar::v1::WATCH_MEASUREMENT);
    }
    const grpc::Status status = reader->Finish();
    stream_over.Notify();
    watchdog.join();
    if (status.ok() && view.ended()) {
      screen.Show(view, {}, "", /*force=*/true);
      if (screen.redraw()) std::cout << "\n";
      std::cout << view.Summary() << "\n" << std::flush;
      return absl::OkStatus();
    }
    if (Permanent(status.error_code())) return FromGrpcStatus(status, client->address());
    if (!unreachable_since) unreachable_since = absl::Now();
    if (absl::Now() - *unreachable_since >
        absl::Seconds(options.unavailable_grace_seconds))
      return FromGrpcStatus(status, client->address());
    screen.Status(view, absl::StrCat("reconnecting... (", status.error_message(), ")"));
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
    context.ResetClient();  // A fresh channel skips gRPC's own backoff.
  }
}

}  // namespace

void RegisterWatch(CLI::App& app, Context& context) {
  auto options = std::make_shared<WatchOptions>();
  CLI::App* command = app.add_subcommand(
      "watch",
      "Live view of a study or trial (curves, best, nudges, rollbacks) until it ends");
  command->add_option("study", options->study, "Study name");
  command->add_option("--trial", options->trial_id, "Watch this trial instead")
      ->type_name("ID")
      ->check(TrialIdValidator());
  command->add_flag("--plain", options->plain,
                    "One line per event even on a terminal (the default when stdout "
                    "is not one)");
  command
      ->add_option("--unavailable-grace", options->unavailable_grace_seconds,
                   "Fail if the coordinator is unreachable this long")
      ->check(NonNegativeValidator(/*integer=*/false))
      ->capture_default_str();
  command->callback([&context, options] {
    // A usage error (exit 2, like every other bad argument), raised while
    // the command line is parsed.
    if (options->study.empty() == (options->trial_id == 0))
      throw CLI::ValidationError("watch",
                                 "give a study name or --trial ID (one of them)");
    context.action = [&context, options]() -> absl::Status {
      return RunWatch(context, *options);
    };
  });
}

}  // namespace caviar::cli
