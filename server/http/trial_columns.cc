#include "server/http/trial_columns.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/http/proto_json.h"
#include "server/scheduling/study_runtime.h"

namespace caviar::http {
namespace {

using caviar::v1::Trial;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Millis(bool has, const google::protobuf::Timestamp& time) {
  if (!has) return kNaN;
  return static_cast<double>(time.seconds() * 1000 + time.nanos() / 1000000);
}

bool Finished(uint8_t state) {
  return scheduling::IsFinal(static_cast<caviar::v1::TrialState>(state));
}

// The study's identity for the cache: a study deleted and made again under
// its name, or whose parameters changed, starts over.
std::string Fingerprint(const caviar::v1::Study& study) {
  std::string out =
      absl::StrCat(study.create_time().seconds(), ".", study.create_time().nanos(), "|");
  for (const caviar::v1::ParameterSpec& p : study.spec().parameters())
    out += p.SerializeAsString();
  return out;
}

// ---- JSON

// `"name":[...]` of count values, each written by `entry(i, out)`.
template <typename Entry>
void JsonArray(absl::string_view name, size_t count, std::string* out, Entry entry) {
  AppendJsonString(name, out);
  out->append(":[");
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out->push_back(',');
    entry(i, out);
  }
  out->push_back(']');
}

void JsonNumber(double value, std::string* out) {
  if (std::isfinite(value))
    AppendJsonNumber(value, out);
  else
    out->append("null");
}

// An integer kept as a double (exact below 2^53); one beyond int64's range
// (only a rounded parameter value can be) as a number.
void JsonInteger(double value, std::string* out) {
  if (!std::isfinite(value))
    out->append("null");
  else if (std::abs(value) < 9.2e18)
    absl::StrAppend(out, static_cast<int64_t>(value));
  else
    AppendJsonNumber(value, out);
}

void JsonStrings(absl::string_view name, const std::vector<std::string>& values,
                 std::string* out) {
  JsonArray(name, values.size(), out,
            [&](size_t i, std::string* o) { AppendJsonString(values[i], o); });
}

// The names of an enum's numbers 0..max (a number without a name is "").
std::vector<std::string> EnumNames(const google::protobuf::EnumDescriptor* descriptor) {
  int max = 0;
  for (int i = 0; i < descriptor->value_count(); ++i)
    max = std::max(max, descriptor->value(i)->number());
  std::vector<std::string> names;
  for (int n = 0; n <= max; ++n) {
    const google::protobuf::EnumValueDescriptor* value = descriptor->FindValueByNumber(n);
    names.push_back(value == nullptr ? "" : value->name());
  }
  return names;
}

// The envelope and dictionaries both answers start with (no closing brace).
std::string Envelope(const ColumnsPage& page) {
  const TrialColumns& c = page.columns;
  std::string out = absl::StrCat("{\"count\":", c.size(), ",\"total\":", page.total,
                                 ",\"next_after\":", page.next_after,
                                 ",\"more\":", page.more ? "true" : "false", ",");
  JsonStrings("state_names", EnumNames(caviar::v1::TrialState_descriptor()), &out);
  out.push_back(',');
  JsonStrings("failure_names", EnumNames(caviar::v1::FailureKind_descriptor()), &out);
  out.push_back(',');
  JsonStrings("workers", c.workers, &out);
  return out;
}

// ---- binary

void Pad8(std::string* out) { out->resize((out->size() + 7) / 8 * 8, '\0'); }

template <typename T>
void AppendRaw(const std::vector<T>& values, std::string* out) {
  static_assert(std::is_arithmetic_v<T>);
  const size_t at = out->size();
  out->resize(at + values.size() * sizeof(T));
  if (!values.empty())
    std::memcpy(out->data() + at, values.data(), values.size() * sizeof(T));
}

// Whole numbers (NaN: none) as int32 offsets from `base` when every one
// fits, `kNone` standing for NaN: half the bytes of doubles for ids, steps
// and times (milliseconds over up to 24 days). nullopt when one does not fit.
constexpr int32_t kNone = std::numeric_limits<int32_t>::min();
std::optional<std::vector<int32_t>> AsInt32(const std::vector<double>& values,
                                            double base) {
  std::vector<int32_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (std::isnan(v)) {
      out[i] = kNone;
      continue;
    }
    const double d = v - base;
    if (!(d > kNone && d <= std::numeric_limits<int32_t>::max()) || d != std::floor(d))
      return std::nullopt;
    out[i] = static_cast<int32_t>(d);
  }
  return out;
}

// The smallest finite value (0 when none), an int32 column's base.
double SmallestFinite(const std::vector<double>& values) {
  double low = std::numeric_limits<double>::infinity();
  for (double v : values)
    if (std::isfinite(v)) low = std::min(low, v);
  return std::isfinite(low) ? low : 0;
}

}  // namespace

// ---- TrialColumns

TrialColumns::TrialColumns(const caviar::v1::StudySpec& spec) {
  for (const caviar::v1::ParameterSpec& p : spec.parameters()) {
    Parameter& parameter = parameters.emplace_back();
    parameter.name = p.name();
    if (p.has_categorical()) {
      parameter.kind = Parameter::kCategory;
      parameter.categories.assign(p.categorical().values().begin(),
                                  p.categorical().values().end());
    } else if (p.has_integer()) {
      parameter.kind = Parameter::kInteger;
    }
  }
}

int32_t TrialColumns::WorkerIndex(const std::string& name) {
  if (name.empty()) return -1;
  // Few workers: a linear search from the latest (a worker runs trials in
  // a row) is cheaper than a map.
  for (size_t w = workers.size(); w-- > 0;)
    if (workers[w] == name) return static_cast<int32_t>(w);
  workers.push_back(name);
  return static_cast<int32_t>(workers.size() - 1);
}

double TrialColumns::CategoryIndex(Parameter& parameter, const std::string& value) {
  auto& cats = parameter.categories;
  auto it = std::find(cats.begin(), cats.end(), value);
  if (it == cats.end()) it = cats.insert(cats.end(), value);
  return static_cast<double>(it - cats.begin());
}

void TrialColumns::Add(const Trial& t) {
  id.push_back(t.id());
  state.push_back(static_cast<uint8_t>(t.state()));
  failure.push_back(static_cast<uint8_t>(t.failure_kind()));
  objective.push_back(t.has_objective_value() && std::isfinite(t.objective_value())
                          ? t.objective_value()
                          : kNaN);
  final_step.push_back(t.has_final_measurement()
                           ? static_cast<double>(t.final_measurement().step())
                           : kNaN);
  start_ms.push_back(Millis(t.has_start_time(), t.start_time()));
  end_ms.push_back(Millis(t.has_end_time(), t.end_time()));
  worker.push_back(WorkerIndex(t.worker_id()));
  reason.push_back(t.failure_reason().empty() ? t.stop_reason() : t.failure_reason());
  for (Parameter& p : parameters) {
    double v = kNaN;
    auto it = t.parameters().find(p.name);
    if (it != t.parameters().end()) {
      const caviar::v1::ParameterValue& value = it->second;
      if (p.kind == Parameter::kCategory) {
        if (value.has_string_value()) v = CategoryIndex(p, value.string_value());
      } else if (value.has_double_value()) {
        v = value.double_value();
      } else if (value.has_int_value()) {
        v = static_cast<double>(value.int_value());
      }
    }
    p.values.push_back(std::isfinite(v) ? v : kNaN);
  }
}

void TrialColumns::AppendRows(const TrialColumns& from, size_t begin, size_t end) {
  auto copy = [&](auto& to, const auto& source) {
    to.insert(to.end(), source.begin() + begin, source.begin() + end);
  };
  copy(id, from.id);
  copy(state, from.state);
  copy(failure, from.failure);
  copy(objective, from.objective);
  copy(final_step, from.final_step);
  copy(start_ms, from.start_ms);
  copy(end_ms, from.end_ms);
  copy(reason, from.reason);
  // `from`'s worker and category indices mapped to this table's, each looked
  // up once per call rather than once per row (first seen, first added, as
  // row by row).
  constexpr int32_t kUnmapped = std::numeric_limits<int32_t>::min();
  std::vector<int32_t> worker_map(from.workers.size(), kUnmapped);
  for (size_t i = begin; i < end; ++i) {
    const int32_t w = from.worker[i];
    if (w < 0) {
      worker.push_back(-1);
      continue;
    }
    if (worker_map[w] == kUnmapped) worker_map[w] = WorkerIndex(from.workers[w]);
    worker.push_back(worker_map[w]);
  }
  for (size_t k = 0; k < parameters.size() && k < from.parameters.size(); ++k) {
    Parameter& p = parameters[k];
    const Parameter& q = from.parameters[k];
    if (p.kind != Parameter::kCategory) {
      copy(p.values, q.values);
      continue;
    }
    std::vector<double> category_map(q.categories.size(), -1);
    for (size_t i = begin; i < end; ++i) {
      const double v = q.values[i];
      if (std::isnan(v)) {
        p.values.push_back(kNaN);
        continue;
      }
      double& mapped = category_map[static_cast<size_t>(v)];
      if (mapped < 0) mapped = CategoryIndex(p, q.categories[static_cast<size_t>(v)]);
      p.values.push_back(mapped);
    }
  }
}

// ---- ColumnCache

ColumnCache::Entry& ColumnCache::EntryOf(const caviar::v1::Study& study) {
  const std::string key = absl::StrCat(study.spec().name(), "\n", Fingerprint(study));
  std::unique_ptr<Entry>& entry = entries_[key];
  if (entry == nullptr) {
    // Another study of this name (deleted, made again) and the least
    // recently used beyond the bound go.
    for (auto it = entries_.begin(); it != entries_.end();) {
      const bool same_name =
          it->second != nullptr && it->first.rfind(study.spec().name() + "\n", 0) == 0;
      it = same_name ? entries_.erase(it) : std::next(it);
    }
    while (static_cast<int>(entries_.size()) > max_studies_) {
      auto oldest = entries_.end();
      for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->second != nullptr &&
            (oldest == entries_.end() || it->second->last_use < oldest->second->last_use))
          oldest = it;
      if (oldest == entries_.end()) break;
      entries_.erase(oldest);
    }
    entry = std::make_unique<Entry>(study.spec());
  }
  entry->last_use = ++uses_;
  return *entry;
}

int64_t ColumnCache::Read(const caviar::v1::Study& study, int64_t after, int64_t limit,
                          TrialColumns* page, int64_t* through) {
  absl::MutexLock lock(&mu_);
  const TrialColumns& cached = EntryOf(study).columns;
  *through = cached.size() == 0 ? 0 : cached.id.back();
  const size_t begin =
      std::upper_bound(cached.id.begin(), cached.id.end(), after) - cached.id.begin();
  const size_t end = begin + std::min<size_t>(limit, cached.size() - begin);
  page->AppendRows(cached, begin, end);
  return end > begin ? cached.id[end - 1] : 0;
}

void ColumnCache::Extend(const caviar::v1::Study& study, int64_t through,
                         const TrialColumns& page, size_t begin, size_t end) {
  // A bound on one study's memory (~100 bytes a trial).
  constexpr size_t kMaxRows = 2000000;
  absl::MutexLock lock(&mu_);
  TrialColumns& cached = EntryOf(study).columns;
  if ((cached.size() == 0 ? 0 : cached.id.back()) != through) return;  // Moved on.
  size_t last = begin;
  while (last < end && Finished(page.state[last]) &&
         cached.size() + (last - begin) < kMaxRows)
    ++last;
  cached.AppendRows(page, begin, last);
}

// ---- reading

absl::StatusOr<ColumnsPage> ReadTrialColumns(
    scheduling::Coordinator& coordinator, const caviar::v1::Study& study,
    const std::vector<caviar::v1::TrialState>& states, int64_t after, int64_t limit,
    ColumnCache* cache) {
  const caviar::v1::StudySpec& spec = study.spec();
  ColumnsPage page(spec);
  TrialColumns& columns = page.columns;
  // The cache's rows first; the Coordinator's from where they end.
  int64_t through = -1, cursor = after;
  if (cache != nullptr && states.empty()) {
    const int64_t last = cache->Read(study, after, limit, &columns, &through);
    if (last > 0) cursor = last;
  }
  const size_t from_cache = columns.size();
  // The cache learns the trials listed next only if they follow its last.
  const bool extends = through >= 0 && cursor == through;
  caviar::v1::ListTrialsRequest request;
  request.set_study(spec.name());
  for (caviar::v1::TrialState state : states) request.add_states(state);
  // The Coordinator's pages are 10,000 trials at most: walk them by id,
  // asking one trial more than `limit` needs to tell whether more wait.
  constexpr int64_t kPage = 10000;
  for (;;) {
    request.set_after_id(cursor);
    request.set_page_size(static_cast<int32_t>(
        std::min<int64_t>(kPage, limit - static_cast<int64_t>(columns.size()) + 1)));
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::ListTrialsResponse listed,
                            coordinator.ListTrials(request));
    page.total = listed.total_size();
    for (const Trial& trial : listed.trials()) {
      if (static_cast<int64_t>(columns.size()) == limit) {
        page.more = true;
        break;
      }
      columns.Add(trial);
      cursor = trial.id();
    }
    if (page.more || listed.trials_size() < request.page_size()) break;
  }
  page.next_after = columns.size() == 0 ? after : columns.id.back();
  if (extends && columns.size() > from_cache)
    cache->Extend(study, through, columns, from_cache, columns.size());
  return page;
}

// ---- answers

std::string ColumnsJson(const ColumnsPage& page) {
  const TrialColumns& c = page.columns;
  const size_t n = c.size();
  std::string out = Envelope(page);
  out.push_back(',');
  JsonArray("id", n, &out,
            [&](size_t i, std::string* o) { absl::StrAppend(o, c.id[i]); });
  out.push_back(',');
  JsonArray("state", n, &out,
            [&](size_t i, std::string* o) { absl::StrAppend(o, c.state[i]); });
  out.push_back(',');
  JsonArray("objective", n, &out,
            [&](size_t i, std::string* o) { JsonNumber(c.objective[i], o); });
  out.push_back(',');
  JsonArray("final_step", n, &out,
            [&](size_t i, std::string* o) { JsonInteger(c.final_step[i], o); });
  out.push_back(',');
  JsonArray("worker", n, &out,
            [&](size_t i, std::string* o) { absl::StrAppend(o, c.worker[i]); });
  out.push_back(',');
  JsonArray("start_ms", n, &out,
            [&](size_t i, std::string* o) { JsonInteger(c.start_ms[i], o); });
  out.push_back(',');
  JsonArray("end_ms", n, &out,
            [&](size_t i, std::string* o) { JsonInteger(c.end_ms[i], o); });
  out.push_back(',');
  JsonArray("failure", n, &out,
            [&](size_t i, std::string* o) { absl::StrAppend(o, c.failure[i]); });
  out.push_back(',');
  JsonStrings("reason", c.reason, &out);
  out += ",\"parameters\":{";
  for (size_t k = 0; k < c.parameters.size(); ++k) {
    const TrialColumns::Parameter& p = c.parameters[k];
    if (k > 0) out.push_back(',');
    JsonArray(p.name, n, &out, [&](size_t i, std::string* o) {
      const double v = p.values[i];
      if (std::isnan(v))
        o->append("null");
      else if (p.kind == TrialColumns::Parameter::kCategory)
        AppendJsonString(p.categories[static_cast<size_t>(v)], o);
      else if (p.kind == TrialColumns::Parameter::kInteger)
        JsonInteger(v, o);
      else
        JsonNumber(v, o);
    });
  }
  out += "}}";
  return out;
}

std::string ColumnsBinary(const ColumnsPage& page) {
  const TrialColumns& c = page.columns;
  const size_t n = c.size();
  // Each column's type, size and writer, in the order laid out: 8-byte
  // values first, every column starting at a multiple of 8.
  struct Column {
    std::string name;
    const char* type;
    size_t bytes;
    std::function<void(std::string*)> write;
    std::string extra;  // More of its header entry (an int32 column's base and none).
  };
  std::vector<Column> layout = {
      {"objective", "f64", 8, [&](std::string* o) { AppendRaw(c.objective, o); }}};
  for (size_t k = 0; k < c.parameters.size(); ++k)
    layout.push_back({absl::StrCat("p", k), "f64", 8,
                      [&, k](std::string* o) { AppendRaw(c.parameters[k].values, o); }});
  // Whole numbers as int32 offsets where they fit (AsInt32), else doubles.
  std::vector<double> ids(c.id.begin(), c.id.end());  // Ids fit in 2^53.
  auto whole = [&](const std::string& name, const std::vector<double>& values,
                   bool based) {
    const double base = based ? SmallestFinite(values) : 0;
    std::optional<std::vector<int32_t>> small = AsInt32(values, base);
    if (!small.has_value()) {
      layout.push_back(
          {name, "f64", 8, [&values](std::string* o) { AppendRaw(values, o); }});
      return;
    }
    auto shared = std::make_shared<std::vector<int32_t>>(*std::move(small));
    const bool some_none =
        std::find(shared->begin(), shared->end(), kNone) != shared->end();
    std::string extra = some_none ? absl::StrCat(",\"none\":", kNone) : "";
    if (base != 0) {
      extra += ",\"base\":";
      JsonInteger(base, &extra);
    }
    layout.push_back({name, "i32", 4, [shared](std::string* o) { AppendRaw(*shared, o); },
                      std::move(extra)});
  };
  whole("id", ids, false);
  whole("final_step", c.final_step, false);
  whole("start_ms", c.start_ms, true);
  whole("end_ms", c.end_ms, true);
  layout.push_back({"worker", "i32", 4, [&](std::string* o) { AppendRaw(c.worker, o); }});
  layout.push_back({"state", "u8", 1, [&](std::string* o) { AppendRaw(c.state, o); }});
  layout.push_back(
      {"failure", "u8", 1, [&](std::string* o) { AppendRaw(c.failure, o); }});

  // The header: offsets count from the start of the answer, after the
  // header, which is padded to 8 bytes (its length is known once written:
  // offsets are written at a fixed width so it does not change).
  std::string header = Envelope(page);
  std::vector<int64_t> rows;
  std::vector<std::string> texts;
  for (size_t i = 0; i < n; ++i) {
    if (c.reason[i].empty()) continue;
    rows.push_back(static_cast<int64_t>(i));
    texts.push_back(c.reason[i]);
  }
  header += ",\"reasons\":{";
  JsonArray("row", rows.size(), &header,
            [&](size_t i, std::string* o) { absl::StrAppend(o, rows[i]); });
  header.push_back(',');
  JsonStrings("text", texts, &header);
  header += "},\"parameters\":[";
  for (size_t k = 0; k < c.parameters.size(); ++k) {
    const TrialColumns::Parameter& p = c.parameters[k];
    if (k > 0) header.push_back(',');
    header += "{\"name\":";
    AppendJsonString(p.name, &header);
    absl::StrAppend(&header, ",\"column\":\"p", k, "\"");
    if (p.kind == TrialColumns::Parameter::kCategory) {
      header.push_back(',');
      JsonStrings("categories", p.categories, &header);
    }
    header.push_back('}');
  }
  header += "],\"columns\":[";
  const size_t offsets_at = header.size();
  for (size_t j = 0; j < layout.size(); ++j)
    absl::StrAppend(&header, j ? "," : "", "{\"name\":\"", layout[j].name,
                    "\",\"type\":\"", layout[j].type, "\"", layout[j].extra,
                    ",\"offset\":", std::string(12, '0'), "}");
  header += "]}";
  // Fill in the offsets (12 digits, leading zeros are not JSON: spaces).
  size_t offset = (4 + header.size() + 7) / 8 * 8;
  size_t at = offsets_at;
  for (const Column& column : layout) {
    at = header.find("\"offset\":", at) + 9;
    const std::string digits = absl::StrCat(offset);
    header.replace(at, 12, std::string(12 - digits.size(), ' ') + digits);
    offset += (n * column.bytes + 7) / 8 * 8;
  }
  std::string out;
  out.reserve(offset);
  const uint32_t length = static_cast<uint32_t>(header.size());
  for (int b = 0; b < 4; ++b)
    out.push_back(static_cast<char>((length >> (8 * b)) & 0xff));
  out += header;
  Pad8(&out);
  for (const Column& column : layout) {
    column.write(&out);
    Pad8(&out);
  }
  return out;
}

}  // namespace caviar::http
