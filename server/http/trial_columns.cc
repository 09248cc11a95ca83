#include "server/http/trial_columns.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/http/proto_json.h"

namespace caviar::http {
namespace {

using caviar::v1::Trial;

// One JSON array being written: its text without the closing bracket.
class Column {
 public:
  Column() : text_("[") {}
  // The separator before the next entry.
  std::string& Next() {
    if (text_.size() > 1) text_.push_back(',');
    return text_;
  }
  void Null() { Next() += "null"; }
  void Integer(int64_t value) { absl::StrAppend(&Next(), value); }
  void Number(double value) {
    if (!std::isfinite(value)) return Null();
    AppendJsonNumber(value, &Next());
  }
  void String(absl::string_view value) { AppendJsonString(value, &Next()); }
  std::string Closed() const { return absl::StrCat(text_, "]"); }
  // `"name":[...]` onto `out`.
  void AppendTo(absl::string_view name, std::string* out) const {
    AppendJsonString(name, out);
    absl::StrAppend(out, ":", text_, "]");
  }

 private:
  std::string text_;
};

void Millis(bool has, const google::protobuf::Timestamp& time, Column& column) {
  if (!has) return column.Null();
  column.Integer(time.seconds() * 1000 + time.nanos() / 1000000);
}

void ParameterEntry(const Trial& trial, const std::string& name, Column& column) {
  auto it = trial.parameters().find(name);
  if (it == trial.parameters().end()) return column.Null();
  const caviar::v1::ParameterValue& value = it->second;
  switch (value.value_case()) {
    case caviar::v1::ParameterValue::kDoubleValue:
      return column.Number(value.double_value());
    case caviar::v1::ParameterValue::kIntValue:
      return column.Integer(value.int_value());
    case caviar::v1::ParameterValue::kStringValue:
      return column.String(value.string_value());
    default:
      return column.Null();
  }
}

// The names of an enum's numbers 0..max as a JSON array (a number without a
// name is "").
std::string EnumNames(const google::protobuf::EnumDescriptor* descriptor) {
  int max = 0;
  for (int i = 0; i < descriptor->value_count(); ++i)
    max = std::max(max, descriptor->value(i)->number());
  Column names;
  for (int n = 0; n <= max; ++n) {
    const google::protobuf::EnumValueDescriptor* value = descriptor->FindValueByNumber(n);
    names.String(value == nullptr ? "" : value->name());
  }
  return names.Closed();
}

struct Columns {
  Column id, state, objective, final_step, worker, start_ms, end_ms, failure, reason;
  std::vector<Column> parameters;
  absl::flat_hash_map<std::string, int> worker_index;
  Column workers;

  void Add(const Trial& t, const caviar::v1::StudySpec& spec) {
    id.Integer(t.id());
    state.Integer(t.state());
    if (t.has_objective_value())
      objective.Number(t.objective_value());
    else
      objective.Null();
    if (t.has_final_measurement())
      final_step.Integer(t.final_measurement().step());
    else
      final_step.Null();
    if (t.worker_id().empty()) {
      worker.Integer(-1);
    } else {
      auto [it, added] = worker_index.emplace(t.worker_id(), worker_index.size());
      if (added) workers.String(t.worker_id());
      worker.Integer(it->second);
    }
    Millis(t.has_start_time(), t.start_time(), start_ms);
    Millis(t.has_end_time(), t.end_time(), end_ms);
    failure.Integer(t.failure_kind());
    reason.String(t.failure_reason().empty() ? t.stop_reason() : t.failure_reason());
    for (int k = 0; k < spec.parameters_size(); ++k)
      ParameterEntry(t, spec.parameters(k).name(), parameters[k]);
  }
};

}  // namespace

absl::StatusOr<std::string> TrialColumnsJson(
    scheduling::Coordinator& coordinator, const caviar::v1::Study& study,
    const std::vector<caviar::v1::TrialState>& states, int64_t after, int64_t limit) {
  const caviar::v1::StudySpec& spec = study.spec();
  Columns columns;
  columns.parameters.resize(spec.parameters_size());
  caviar::v1::ListTrialsRequest request;
  request.set_study(spec.name());
  for (caviar::v1::TrialState state : states) request.add_states(state);
  // The Coordinator's pages are 10,000 trials at most: walk them by id,
  // asking one trial more than `limit` needs to tell whether more wait.
  constexpr int64_t kPage = 10000;
  int64_t count = 0, cursor = after, total = 0;
  bool more = false;
  for (;;) {
    request.set_after_id(cursor);
    request.set_page_size(static_cast<int32_t>(std::min(kPage, limit - count + 1)));
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::ListTrialsResponse page,
                            coordinator.ListTrials(request));
    total = page.total_size();
    for (const Trial& trial : page.trials()) {
      if (count == limit) {
        more = true;
        break;
      }
      columns.Add(trial, spec);
      cursor = trial.id();
      ++count;
    }
    if (more || page.trials_size() < request.page_size()) break;
  }

  std::string out = absl::StrCat(
      "{\"count\":", count, ",\"total\":", total, ",\"next_after\":", cursor,
      ",\"more\":", more ? "true" : "false",
      ",\"state_names\":", EnumNames(caviar::v1::TrialState_descriptor()),
      ",\"failure_names\":", EnumNames(caviar::v1::FailureKind_descriptor()), ",");
  columns.workers.AppendTo("workers", &out);
  for (auto& [name, column] :
       std::initializer_list<std::pair<const char*, const Column*>>{
           {"id", &columns.id},
           {"state", &columns.state},
           {"objective", &columns.objective},
           {"final_step", &columns.final_step},
           {"worker", &columns.worker},
           {"start_ms", &columns.start_ms},
           {"end_ms", &columns.end_ms},
           {"failure", &columns.failure},
           {"reason", &columns.reason}}) {
    out.push_back(',');
    column->AppendTo(name, &out);
  }
  out += ",\"parameters\":{";
  for (int k = 0; k < spec.parameters_size(); ++k) {
    if (k > 0) out.push_back(',');
    columns.parameters[k].AppendTo(spec.parameters(k).name(), &out);
  }
  out += "}}";
  return out;
}

}  // namespace caviar::http
