#include "common/metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace caviar::metrics {
namespace {

void AppendEscaped(std::string* out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && quote) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

void AppendLabels(std::string* out, const std::vector<std::string>& labels,
                  const LabelValues& values, std::string_view extra_label = {},
                  std::string_view extra_value = {}) {
  if (labels.empty() && extra_label.empty()) return;
  out->push_back('{');
  bool first = true;
  auto add = [&](std::string_view label, std::string_view value) {
    if (!first) out->push_back(',');
    first = false;
    out->append(label);
    out->append("=\"");
    AppendEscaped(out, value, /*quote=*/true);
    out->push_back('"');
  };
  for (size_t i = 0; i < labels.size(); ++i)
    add(labels[i], i < values.size() ? std::string_view(values[i]) : "");
  if (!extra_label.empty()) add(extra_label, extra_value);
  out->push_back('}');
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  const size_t bucket =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) -
      upper_bounds_.begin();
  absl::MutexLock lock(&mu_);
  ++counts_[bucket];
  sum_ += value;
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  absl::MutexLock lock(&mu_);
  uint64_t total = 0;
  for (uint64_t count : counts_) snapshot.cumulative.push_back(total += count);
  snapshot.sum = sum_;
  return snapshot;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

template <typename Series>
Series& Family<Series>::With(const LabelValues& values) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Series>& series = series_[values];
  if (series == nullptr) {
    if constexpr (std::is_same_v<Series, Histogram>) {
      series = std::make_unique<Histogram>(bounds_);
    } else {
      series = std::make_unique<Series>();
    }
  }
  return *series;
}

template <>
void Family<Counter>::Render(std::string* out) const {
  AppendHeader(out, name_, help_, "counter");
  absl::MutexLock lock(&mu_);
  for (const auto& [values, counter] : series_)
    AppendSample(out, name_, labels_, values, static_cast<double>(counter->value()));
}

template <>
void Family<Histogram>::Render(std::string* out) const {
  AppendHeader(out, name_, help_, "histogram");
  absl::MutexLock lock(&mu_);
  const std::string bucket = name_ + "_bucket";
  for (const auto& [values, histogram] : series_) {
    const Histogram::Snapshot s = histogram->Read();
    for (size_t i = 0; i <= s.upper_bounds.size(); ++i) {
      out->append(bucket);
      const std::string le = i < s.upper_bounds.size() ? FormatValue(s.upper_bounds[i])
                                                       : std::string("+Inf");
      AppendLabels(out, labels_, values, "le", le);
      absl::StrAppend(out, " ", s.cumulative[i], "\n");
    }
    AppendSample(out, name_ + "_sum", labels_, values, s.sum);
    AppendSample(out, name_ + "_count", labels_, values,
                 static_cast<double>(s.cumulative.back()));
  }
}

template class Family<Counter>;
template class Family<Histogram>;

Registry& Registry::Default() {
  static Registry* registry = new Registry();
  return *registry;
}

CounterFamily& Registry::Counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<CounterFamily>& family = counters_[name];
  if (family == nullptr)
    family.reset(new CounterFamily(name, help, std::move(labels), {}));
  return *family;
}

HistogramFamily& Registry::Histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> labels,
                                     std::vector<double> upper_bounds) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<HistogramFamily>& family = histograms_[name];
  if (family == nullptr) {
    std::sort(upper_bounds.begin(), upper_bounds.end());
    family.reset(
        new HistogramFamily(name, help, std::move(labels), std::move(upper_bounds)));
  }
  return *family;
}

std::string Registry::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, family] : counters_) family->Render(&out);
  for (const auto& [name, family] : histograms_) family->Render(&out);
  return out;
}

void AppendHeader(std::string* out, std::string_view name, std::string_view help,
                  std::string_view type) {
  out->append("# HELP ").append(name).append(" ");
  AppendEscaped(out, help, /*quote=*/false);
  out->append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

void AppendSample(std::string* out, std::string_view name,
                  const std::vector<std::string>& labels, const LabelValues& values,
                  double value) {
  out->append(name);
  AppendLabels(out, labels, values);
  absl::StrAppend(out, " ", FormatValue(value), "\n");
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15)
    return absl::StrCat(static_cast<int64_t>(value));
  // The shortest of %.15g and %.17g that reads back as the same double.
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.15g", value);
  if (std::strtod(buffer, nullptr) != value)
    std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

}  // namespace caviar::metrics
