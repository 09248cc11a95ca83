// What `caviar watch` shows: a model of a watched study (or trial) built
// from StudyService.Watch events (a snapshot replaces it, every other event
// updates it), rendered as a redrawn frame for a terminal or as one line per
// event for logs. Pure: no I/O; not thread-safe (one owner).
#ifndef CAVIAR_CLIENT_WATCH_VIEW_H_
#define CAVIAR_CLIENT_WATCH_VIEW_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "caviar/v1/service.pb.h"

namespace caviar::client {

// The last `width` values as a unicode sparkline (▁▂▃▄▅▆▇█, scaled from
// their min to their max; all equal: ▄). Non-finite values are '!'.
std::string Sparkline(const std::vector<double>& values, int width);

class WatchView {
 public:
  // trial_id != 0: the view of one trial (`caviar watch --trial ID`).
  explicit WatchView(int64_t trial_id = 0) : trial_id_(trial_id) {}

  // Takes in one event; returns what plain mode prints for it (nothing for
  // a heartbeat), each line prefixed with the event's time.
  std::vector<std::string> Apply(const caviar::v1::WatchEvent& event);

  // The terminal frame: at most `height` lines, each cut to `width` columns.
  std::vector<std::string> Frame(int width, int height) const;

  // The study ended (or the watched trial finished): the watch is over.
  bool ended() const;
  bool has_snapshot() const { return has_snapshot_; }
  // A one-line summary of where the study stands (the last line printed).
  std::string Summary() const;

 private:
  std::optional<double> ObjectiveOf(const caviar::v1::Trial& trial) const;
  std::optional<double> Best() const;
  std::vector<double> Curve(const caviar::v1::Trial& trial) const;
  std::string TrialLine(const caviar::v1::Trial& trial, int curve_width) const;
  std::string SnapshotLine(const caviar::v1::Trial& trial) const;
  std::string Describe(const caviar::v1::WatchEvent& event) const;
  void AddMeasurement(caviar::v1::Trial& trial, const caviar::v1::Measurement& m);
  void ConsiderBest(const caviar::v1::Trial& trial);
  void NoteEvent(const std::string& line);

  const int64_t trial_id_;
  bool has_snapshot_ = false;
  caviar::v1::Study study_;
  std::map<int64_t, caviar::v1::Trial> trials_;  // Live, recent, best; by id.
  int64_t best_id_ = 0;
  std::deque<std::string> events_;  // Latest notable events, oldest first.
};

}  // namespace caviar::client

#endif  // CAVIAR_CLIENT_WATCH_VIEW_H_
