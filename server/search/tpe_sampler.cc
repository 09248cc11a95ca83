// tpe: tree-structured Parzen estimator (Bergstra et al. 2011) on the unit
// cube.
//
// After n_startup finished trials drawn at random, each suggestion splits
// the trials by loss into the best ceil(gamma * n) (at most 25), "good", and
// the rest, "bad"; fits a Parzen estimator (a mixture of one kernel per trial
// plus a wide prior kernel of weight prior_weight) to each; draws
// n_ei_candidates points from the good one and returns the one maximizing
// l(x) / g(x), which maximizes expected improvement.
//
// Two models of each group, one score: the joint one (a mixture of product
// kernels: sees interactions, e.g. Branin's valley and Rosenbrock's) and the
// per-parameter one (the product of each parameter's own mixture, as
// Optuna's default: it rates a candidate that combines good values of
// different trials, which separable functions reward). The score is the
// weighted mean of their log ratios, univariate_weight (0.5) for the
// per-parameter one. On bench/search's six tuning functions (seeds 1-200)
// it lowered the median regret at 50 trials by 8% (geometric mean over the
// functions) against the joint model alone at 1 and at 4 workers, no change
// at 16: Hartmann-6 0.42 -> 0.38, Rosenbrock-4 127 -> 100, mixed_mlp
// 0.164 -> 0.153 at one worker. Candidates are drawn from the joint model;
// multivariate = false draws and scores with the per-parameter one only.
//
// Kernels: a normal truncated to [0, 1] for continuous parameters; its mass
// over the value's bin for integer and discrete ones (ordered); for a
// categorical one, its own category with weight 1 plus prior_weight / m
// spread over all categories (m = kernels in the estimator). Bandwidth
// (per dimension, Scott-like): bandwidth * n^(-1 / (d + 4)), clipped to
// [1 / min(100, n + 1), 1].
//
// After `caviar refine`, candidates are drawn inside the latest region (the
// model still learns from every trial) and the trial takes its round.
//
// Trials still running (PENDING or ACTIVE) get a constant liar: the worst
// (default) or mean observed loss, so they count as bad and parallel workers
// are pushed away from points already being evaluated. Their kernels are
// liar_bandwidth times the usual width, so they repel candidates from the
// point being evaluated without emptying the promising region around it.
// The good/bad split counts finished trials only. The random start ends
// after n_startup trials counting running ones, once 2 have finished (as
// Optuna's constant liar counts them): waiting for n_startup results made
// the first n_startup + workers - 1 trials random. Failed trials without a
// loss are ignored.
//
// Categories: each category of a categorical parameter keeps at least
// category_share of an even split of the trials (running ones included);
// when the least-tried one falls below, every candidate of the suggestion
// takes it. Without it, a category that is good almost anywhere (plain sgd)
// fills the good group early and the others are hardly tried again. With
// category_model (default), such a forced suggestion draws its candidates
// from a model of that category's own finished trials (once 2 are in: their
// best ceil(gamma n) against the rest) and scores them by the mean of that
// model's log ratio and the whole model's. Drawn from the whole model, a
// forced adam took the learning rates of the good sgd trials, far from its
// own narrow window. bench/search, seeds 201-800, share of runs whose best
// trial is the better optimizer (regret < 0.2) at 50 trials: mixed_cnn 18%
// -> 25% at one worker, 24% -> 33% at 4; mixed_mlp (regret < 0.1) 15% ->
// 21% and 22% -> 24%, medians unchanged (0.156 -> 0.151, 0.157 -> 0.155).
//
// Options: n_startup (int, default 10), n_ei_candidates (int, default 24),
// gamma (double in [0.001, 1], default 0.25), prior_weight (double in
// [1e-6, 1e6], default 3), liar ("worst" | "mean" | "none", default
// "worst"), multivariate (bool, default true), bandwidth (double in
// [0.001, 1], default 0.1), category_share (double in [0, 1], default 0.5),
// liar_bandwidth (double in [0.01, 1], default 0.25), univariate_weight
// (double in [0, 1], default 0.5; ignored when multivariate is false),
// category_model (bool, default true).
// gamma and bandwidth defaults were tuned on bench/search: Optuna's 0.1 and
// 0.2 gave median regret at 50 sequential trials of 0.22 (Branin) and 0.63
// (Hartmann-6); 0.25 and 0.1 give 0.03 and 0.47 (seeds 1-30). prior_weight
// 3 (was 1) and the startup rule were chosen on bench/search's six tuning
// functions, seeds 1-30 (bench/search/README.md): mixed_mlp 0.167 -> 0.143
// at one worker, Hartmann-6 with 4 workers 0.615 -> 0.584.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>

#include "common/status_macros.h"
#include "server/search/finite.h"
#include "server/search/options.h"
#include "server/search/random.h"
#include "server/search/region.h"
#include "server/search/sampler.h"
#include "server/search/samplers.h"

namespace caviar::search {
namespace {

constexpr int kMaxGood = 25;
constexpr size_t kMaxBad = 2000;
constexpr int64_t kMinFinished = 2;
constexpr double kLogSqrt2Pi = 0.91893853320467274178;

enum class Kind { kContinuous, kOrdinal, kCategorical };

double NormalCdf(double z) { return 0.5 * std::erfc(-z * 0.70710678118654752440); }

double LogSumExp(const std::vector<double>& v) {
  double m = -std::numeric_limits<double>::infinity();
  for (double x : v) m = std::max(m, x);
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

struct TpeOptions {
  int64_t n_startup = 10;
  int64_t n_ei_candidates = 24;
  double gamma = 0.25;
  double prior_weight = 3.0;
  std::string liar = "worst";
  bool multivariate = true;
  double bandwidth = 0.1;
  // Each category of a categorical parameter keeps at least this share of
  // an even split of the trials (share * n / categories).
  double category_share = 0.5;
  // Share of the score from the product of per-parameter models (the rest
  // from the joint one); see the file comment.
  double univariate_weight = 0.5;
  // A forced category gets a model of its own trials; see Suggest.
  bool category_model = true;
  // A running trial's kernel is this much narrower than the others: it
  // should keep workers off the very point being evaluated, not off the
  // promising region around it (bench/search, 4 workers, seeds 1-30,
  // 101-130, 201-230: Hartmann-6 regret at 50 trials 0.86 with full-width
  // liars, 0.63 at 0.25; 8 simultaneous suggestions still 2.7x further apart
  // than with no liar).
  double liar_bandwidth = 0.25;
};

// A Parzen estimator over the unit cube: kernels at the given points plus a
// prior kernel (centre 0.5, width 1, uniform over categories).
class Parzen {
 public:
  // `weights` has one entry per point.
  Parzen(const SearchSpace& space, const std::vector<Kind>& kinds,
         const std::vector<const std::vector<double>*>& points,
         const std::vector<double>& weights, const std::vector<double>& sigma_scales,
         const TpeOptions& options)
      : space_(space),
        kinds_(kinds),
        points_(points),
        sigma_scales_(sigma_scales),
        multivariate_(options.multivariate) {
    const int d = space.size();
    const double n = static_cast<double>(points.size());
    double sigma = options.bandwidth * std::pow(std::max(n, 1.0), -1.0 / (d + 4));
    sigma = std::clamp(sigma, 1.0 / std::min(100.0, n + 1.0), 1.0);
    sigma_ = sigma;
    const double m = n + 1.0;  // Kernels, prior included.
    double total = options.prior_weight;
    for (double w : weights) total += w;
    cumulative_.reserve(points.size() + 1);
    double running_total = 0;
    for (double w : weights) {
      log_weights_.push_back(std::log(w / total));
      running_total += w;
      cumulative_.push_back(running_total / total);
    }
    log_weights_.push_back(std::log(options.prior_weight / total));
    cumulative_.push_back(1.0);
    categorical_spread_ = options.prior_weight / m;
    // Normalizers of the truncated normals, per kernel and dimension.
    log_z_.assign(points.size() + 1, std::vector<double>(d, 0.0));
    for (size_t k = 0; k <= points.size(); ++k) {
      for (int i = 0; i < d; ++i) {
        if (kinds_[i] == Kind::kCategorical) continue;
        const double mu = Mu(k, i), s = Sigma(k);
        log_z_[k][i] =
            std::log(std::max(NormalCdf((1 - mu) / s) - NormalCdf(-mu / s), 1e-300));
      }
    }
  }

  // Log densities at x of the two models, each kernel evaluated once:
  // `joint`, the mixture of product kernels (sees interactions, Branin's
  // valley), and `marginal`, the product of each parameter's own mixture
  // (combines good values of different trials).
  struct LogDensities {
    double joint;
    double marginal;
  };
  LogDensities Evaluate(absl::Span<const double> x) const {
    const int d = space_.size();
    const size_t kernels = points_.size() + 1;
    std::vector<double> joint(kernels), terms(kernels);
    for (size_t k = 0; k < kernels; ++k) joint[k] = LogKernelWeight(k);
    double marginal = 0.0;
    for (int i = 0; i < d; ++i) {
      for (size_t k = 0; k < kernels; ++k) {
        const double log_kernel = LogKernel(k, i, x[i]);
        joint[k] += log_kernel;
        terms[k] = LogKernelWeight(k) + log_kernel;
      }
      marginal += LogSumExp(terms);
    }
    return {LogSumExp(joint), marginal};
  }

  std::vector<double> Sample(Rng& rng) const {
    const int d = space_.size();
    std::vector<double> x(d);
    size_t k = PickKernel(rng);
    for (int i = 0; i < d; ++i) {
      if (!multivariate_ && i > 0) k = PickKernel(rng);
      x[i] = SampleKernel(k, i, rng);
    }
    return x;
  }

 private:
  // Kernel k < n is at points_[k]; kernel n is the prior.
  bool IsPrior(size_t k) const { return k == points_.size(); }
  double Mu(size_t k, int i) const { return IsPrior(k) ? 0.5 : (*points_[k])[i]; }
  double Sigma(size_t k) const { return IsPrior(k) ? 1.0 : sigma_ * sigma_scales_[k]; }
  double LogKernelWeight(size_t k) const { return log_weights_[k]; }

  size_t PickKernel(Rng& rng) const {
    const double r = UnitDouble(rng);
    const size_t k =
        std::upper_bound(cumulative_.begin(), cumulative_.end(), r) - cumulative_.begin();
    return std::min(k, points_.size());
  }

  double LogKernel(size_t k, int i, double x) const {
    switch (kinds_[i]) {
      case Kind::kCategorical: {
        const double m = static_cast<double>(space_.Cardinality(i));
        if (IsPrior(k)) return -std::log(m);
        const bool same = space_.BinIndex(i, x) == space_.BinIndex(i, Mu(k, i));
        return std::log(((same ? 1.0 : 0.0) + categorical_spread_) /
                        (1.0 + categorical_spread_ * m));
      }
      case Kind::kOrdinal: {
        const double m = static_cast<double>(space_.Cardinality(i));
        const double bin = static_cast<double>(space_.BinIndex(i, x));
        const double mu = Mu(k, i), s = Sigma(k);
        const double mass =
            NormalCdf(((bin + 1) / m - mu) / s) - NormalCdf((bin / m - mu) / s);
        if (mass > 1e-12) return std::log(mass) - log_z_[k][i];
        break;  // Too narrow a bin for differences of CDFs: density x width.
      }
      case Kind::kContinuous:
        break;
    }
    const double mu = Mu(k, i), s = Sigma(k);
    const double z = (x - mu) / s;
    double log_density = -0.5 * z * z - kLogSqrt2Pi - std::log(s) - log_z_[k][i];
    if (kinds_[i] == Kind::kOrdinal)
      log_density -= std::log(static_cast<double>(space_.Cardinality(i)));
    return log_density;
  }

  double SampleKernel(size_t k, int i, Rng& rng) const {
    if (kinds_[i] == Kind::kCategorical) {
      const int64_t m = space_.Cardinality(i);
      if (IsPrior(k))
        return space_.BinCenter(i, static_cast<int64_t>(UniformIndex(rng, m)));
      // Own category with weight 1, each category with categorical_spread_.
      const double r =
          UnitDouble(rng) * (1.0 + categorical_spread_ * static_cast<double>(m));
      const int64_t own = space_.BinIndex(i, Mu(k, i));
      if (r < 1.0) return space_.BinCenter(i, own);
      const int64_t other =
          std::min<int64_t>(m - 1, static_cast<int64_t>((r - 1.0) / categorical_spread_));
      return space_.BinCenter(i, other);
    }
    const double mu = Mu(k, i), s = Sigma(k);
    double x = mu;
    for (int attempt = 0; attempt < 100; ++attempt) {
      const double candidate = mu + s * StandardNormal(rng);
      if (candidate >= 0.0 && candidate <= 1.0) {
        x = candidate;
        break;
      }
    }
    if (kinds_[i] == Kind::kOrdinal) x = space_.BinCenter(i, space_.BinIndex(i, x));
    return x;
  }

  const SearchSpace& space_;
  const std::vector<Kind>& kinds_;
  const std::vector<const std::vector<double>*>& points_;
  const std::vector<double>& sigma_scales_;
  const bool multivariate_;
  double sigma_ = 1.0;
  std::vector<double> log_weights_;  // Per kernel, normalized; prior last.
  std::vector<double> cumulative_;   // Cumulative normalized weights.
  double categorical_spread_ = 0.0;
  std::vector<std::vector<double>> log_z_;
};

bool Running(caviar::v1::TrialState state) {
  return state == caviar::v1::PENDING || state == caviar::v1::ACTIVE;
}

class TpeSampler : public Sampler {
 public:
  TpeSampler(const SearchSpace& space, TpeOptions options)
      : space_(space),
        options_(std::move(options)),
        finite_(space.TotalCardinality() > 0),
        taken_([this](absl::Span<const double> unit) -> std::optional<int64_t> {
          if (!finite_ || unit.size() != static_cast<size_t>(space_.size()))
            return std::nullopt;
          return ConfigurationKey(space_, unit);
        }) {
    for (int i = 0; i < space.size(); ++i) {
      const auto& p = space.parameter(i);
      kinds_.push_back(p.has_categorical()        ? Kind::kCategorical
                       : space.Cardinality(i) > 0 ? Kind::kOrdinal
                                                  : Kind::kContinuous);
    }
  }

  bool SamplesRegions() const override { return true; }

  absl::StatusOr<Suggestion> Suggest(const SampleContext& context) override {
    const int d = space_.size();
    Rng rng(context.seed);
    // After `caviar refine`, candidates come from the latest region, where
    // the model of the whole history still ranks them.
    const bool has_region = context.regions != nullptr && !context.regions->empty();
    const Box box = LatestRegion(space_, context.regions);
    std::vector<Observed> observed;
    for (const TrialPoint& t : context.trials) {
      if (t.unit.size() != static_cast<size_t>(d) || Running(t.state)) continue;
      if (!t.loss.has_value() || !std::isfinite(*t.loss)) continue;
      observed.push_back({&t.unit, *t.loss, t.id, false});
    }
    Suggestion s;
    if (has_region) s.round = context.regions->rbegin()->round();
    // The random start ends after n_startup trials, running ones included
    // (with many workers, waiting for n_startup results would make the
    // first n_startup + workers trials random), once kMinFinished are in.
    int64_t running = 0;
    for (const TrialPoint& t : context.trials) running += Running(t.state);
    const int64_t finished_count = static_cast<int64_t>(observed.size());
    if (finished_count + running < options_.n_startup || finished_count < kMinFinished) {
      s.unit.resize(d);
      for (double& u : s.unit) u = UnitDouble(rng);
      MapIntoBox(box, absl::MakeSpan(s.unit));
      return s;
    }
    const std::vector<std::optional<double>> forced = ForcedCategories(context.trials);
    const std::unique_ptr<Model> model = BuildModel(context.trials, observed, nullptr);
    // A forced category's candidates come from a model of its own trials
    // alone (their best against their rest), scored by the mean of its log
    // ratio and the whole model's: the whole model's good group holds the
    // easy category's trials, whose learning rates would lead the forced
    // category away from its own window (see the file comment).
    std::unique_ptr<Model> own;
    if (options_.category_model) {
      auto matches = [&](const std::vector<double>& unit) {
        for (int i = 0; i < d; ++i) {
          if (forced[i] && space_.BinIndex(i, unit[i]) != space_.BinIndex(i, *forced[i]))
            return false;
        }
        return true;
      };
      std::vector<Observed> mine;
      for (const Observed& o : observed) {
        if (matches(*o.unit)) mine.push_back(o);
      }
      if (static_cast<int64_t>(mine.size()) >= kMinFinished &&
          mine.size() < observed.size())
        own = BuildModel(context.trials, mine, matches);
    }
    if (finite_) taken_.Update(context.trials);
    double best_score = -std::numeric_limits<double>::infinity();
    bool best_free = false;
    for (int64_t c = 0; c < options_.n_ei_candidates; ++c) {
      const Parzen& from = own != nullptr ? *own->l : *model->l;
      std::vector<double> x = from.Sample(rng);
      for (int attempt = 0; has_region && attempt < 8 && !Inside(box, x); ++attempt) {
        x = from.Sample(rng);
      }
      if (!Inside(box, x)) {  // The good trials lie elsewhere: explore the region.
        for (double& u : x) u = UnitDouble(rng);
        MapIntoBox(box, absl::MakeSpan(x));
        SnapToBins(x);
      }
      for (int i = 0; i < d; ++i) {
        if (forced[i] && Inside(box, ForcedAt(x, i, *forced[i]))) x[i] = *forced[i];
      }
      double score = LogRatio(*model->l, *model->g, x);
      if (own != nullptr) score = 0.5 * (score + LogRatio(*own->l, *own->g, x));
      const bool free = !finite_ || !taken_.Contains(ConfigurationKey(space_, x));
      // A free configuration beats any taken one.
      if (s.unit.empty() || (free && !best_free) ||
          (free == best_free && score > best_score)) {
        s.unit = std::move(x);
        best_score = score;
        best_free = free;
      }
    }
    return s;
  }

 private:
  struct Observed {
    const std::vector<double>* unit;
    double loss;
    int64_t id;
    bool running;
  };
  // The good and bad estimators of `observed` (finished trials) and of the
  // running trials that `keep` accepts (all when it is empty), with the
  // vectors the estimators point into.
  struct Model {
    std::vector<const std::vector<double>*> good, bad;
    std::vector<double> good_scales, bad_scales, good_weights, bad_weights;
    std::unique_ptr<Parzen> l, g;
  };
  std::unique_ptr<Model> BuildModel(
      absl::Span<const TrialPoint> trials, const std::vector<Observed>& observed,
      const std::function<bool(const std::vector<double>&)>& keep) const {
    const int d = space_.size();
    auto better = [](const Observed& a, const Observed& b) {
      return a.loss < b.loss || (a.loss == b.loss && a.id < b.id);
    };
    // The good group: the best ceil(gamma n) finished trials (at most 25),
    // found with a bounded max-heap, O(n log 25).
    const size_t finished = observed.size();
    const size_t n_good = std::clamp<size_t>(
        static_cast<size_t>(std::ceil(options_.gamma * static_cast<double>(finished))), 1,
        std::min<size_t>(kMaxGood, finished));
    std::vector<size_t> heap;
    auto heap_order = [&](size_t a, size_t b) {
      return better(observed[a], observed[b]);
    };
    for (size_t k = 0; k < finished; ++k) {
      if (heap.size() < n_good) {
        heap.push_back(k);
        std::push_heap(heap.begin(), heap.end(), heap_order);
      } else if (better(observed[k], observed[heap.front()])) {
        std::pop_heap(heap.begin(), heap.end(), heap_order);
        heap.back() = k;
        std::push_heap(heap.begin(), heap.end(), heap_order);
      }
    }
    const Observed worst_good = observed[heap.front()];
    std::sort(heap.begin(), heap.end(), heap_order);
    std::vector<char> in_good(finished, 0);
    auto m = std::make_unique<Model>();
    std::vector<const std::vector<double>*>&good = m->good, &bad = m->bad;
    for (size_t k : heap) {
      in_good[k] = 1;
      good.push_back(observed[k].unit);
    }
    // The bad group: the other finished trials in id order, thinned evenly
    // when there are many (g needs no more detail, and a suggestion then
    // costs about the same at 100,000 trials as at 2,000).
    const size_t n_bad = finished - n_good;
    size_t seen = 0;
    for (size_t k = 0; k < finished; ++k) {
      if (in_good[k]) continue;
      if (n_bad <= kMaxBad || seen * kMaxBad / n_bad != (seen + 1) * kMaxBad / n_bad) {
        bad.push_back(observed[k].unit);
      }
      ++seen;
    }
    // Running trials, with their lie, join the group the lie puts them in.
    // The split itself counts finished trials only: counting liars would move
    // mediocre finished trials into the good group (measured: Hartmann-6 with
    // 4 workers, seeds 101-200, regret at 50 trials 0.83 -> 0.70 once liars stopped
    // counting).
    std::vector<double>&good_scales = m->good_scales, &bad_scales = m->bad_scales;
    good_scales.assign(good.size(), 1.0);
    bad_scales.assign(bad.size(), 1.0);
    double sum = 0.0, worst = -std::numeric_limits<double>::infinity();
    for (const Observed& o : observed) {
      sum += o.loss;
      worst = std::max(worst, o.loss);
    }
    if (options_.liar != "none") {
      const double lie =
          options_.liar == "mean" ? sum / static_cast<double>(finished) : worst;
      for (const TrialPoint& t : trials) {
        if (t.unit.size() != static_cast<size_t>(d) || !Running(t.state)) continue;
        if (keep && !keep(t.unit)) continue;
        const bool to_good = better({&t.unit, lie, t.id, true}, worst_good);
        (to_good ? good : bad).push_back(&t.unit);
        (to_good ? good_scales : bad_scales).push_back(options_.liar_bandwidth);
      }
    }
    good_scales.resize(good.size(), 1.0);
    bad_scales.resize(bad.size(), 1.0);
    m->good_weights.assign(good.size(), 1.0);
    m->bad_weights.assign(bad.size(), 1.0);
    m->l = std::make_unique<Parzen>(space_, kinds_, good, m->good_weights, good_scales,
                                    options_);
    m->g = std::make_unique<Parzen>(space_, kinds_, bad, m->bad_weights, bad_scales,
                                    options_);
    return m;
  }

  // Per parameter, the bin centre every candidate takes: for a categorical
  // parameter whose least-tried category (running trials included) has fewer
  // than category_share * n / categories trials, that category. A category
  // whose first trials were bad would otherwise stay in the bad group and
  // never be tried at the values that suit it (the easy-but-worse optimizer
  // of bench/search's mixed spaces).
  std::vector<std::optional<double>> ForcedCategories(
      absl::Span<const TrialPoint> trials) const {
    const int d = space_.size();
    std::vector<std::optional<double>> forced(d);
    if (options_.category_share <= 0) return forced;
    for (int i = 0; i < d; ++i) {
      if (kinds_[i] != Kind::kCategorical) continue;
      std::vector<int64_t> counts(space_.Cardinality(i), 0);
      int64_t n = 0;
      for (const TrialPoint& t : trials) {
        if (t.unit.size() != static_cast<size_t>(d)) continue;
        ++counts[space_.BinIndex(i, t.unit[i])];
        ++n;
      }
      const auto least = std::min_element(counts.begin(), counts.end());
      if (static_cast<double>(*least) < options_.category_share * static_cast<double>(n) /
                                            static_cast<double>(counts.size())) {
        forced[i] = space_.BinCenter(i, least - counts.begin());
      }
    }
    return forced;
  }

  // The score a candidate maximizes: log l(x) / g(x), from the joint model
  // and the per-parameter one in the share univariate_weight (with
  // multivariate = false, the per-parameter one only).
  double LogRatio(const Parzen& l, const Parzen& g, absl::Span<const double> x) const {
    const double w = options_.multivariate ? options_.univariate_weight : 1.0;
    const Parzen::LogDensities good = l.Evaluate(x), bad = g.Evaluate(x);
    const double joint = w < 1 ? (1 - w) * (good.joint - bad.joint) : 0.0;
    return joint + w * (good.marginal - bad.marginal);
  }

  static std::vector<double> ForcedAt(std::vector<double> x, int i, double value) {
    x[i] = value;
    return x;
  }

  // Ordinal and categorical coordinates at their bin centres.
  void SnapToBins(std::vector<double>& x) const {
    for (int i = 0; i < space_.size(); ++i) {
      if (kinds_[i] != Kind::kContinuous)
        x[i] = space_.BinCenter(i, space_.BinIndex(i, x[i]));
    }
  }

  const SearchSpace space_;
  const TpeOptions options_;
  const bool finite_;
  std::vector<Kind> kinds_;
  TakenKeys taken_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Sampler>> NewTpeSampler(
    const SearchSpace& space, const google::protobuf::Struct& options) {
  Options o(options, "algorithm.options");
  CAVIAR_RETURN_IF_ERROR(
      o.CheckKnownKeys({"n_startup", "n_ei_candidates", "gamma", "prior_weight", "liar",
                        "multivariate", "bandwidth", "category_share", "liar_bandwidth",
                        "univariate_weight", "category_model"}));
  TpeOptions t;
  CAVIAR_ASSIGN_OR_RETURN(t.n_startup, o.Int("n_startup", t.n_startup, 1, 1000000));
  CAVIAR_ASSIGN_OR_RETURN(t.n_ei_candidates,
                          o.Int("n_ei_candidates", t.n_ei_candidates, 1, 100000));
  CAVIAR_ASSIGN_OR_RETURN(t.gamma, o.Double("gamma", t.gamma, 0.001, 1.0));
  CAVIAR_ASSIGN_OR_RETURN(t.prior_weight,
                          o.Double("prior_weight", t.prior_weight, 1e-6, 1e6));
  CAVIAR_ASSIGN_OR_RETURN(t.liar, o.String("liar", t.liar, {"worst", "mean", "none"}));
  CAVIAR_ASSIGN_OR_RETURN(t.multivariate, o.Bool("multivariate", t.multivariate));
  CAVIAR_ASSIGN_OR_RETURN(t.bandwidth, o.Double("bandwidth", t.bandwidth, 0.001, 1.0));
  CAVIAR_ASSIGN_OR_RETURN(t.category_share,
                          o.Double("category_share", t.category_share, 0.0, 1.0));
  CAVIAR_ASSIGN_OR_RETURN(t.univariate_weight,
                          o.Double("univariate_weight", t.univariate_weight, 0.0, 1.0));
  CAVIAR_ASSIGN_OR_RETURN(t.category_model, o.Bool("category_model", t.category_model));
  CAVIAR_ASSIGN_OR_RETURN(t.liar_bandwidth,
                          o.Double("liar_bandwidth", t.liar_bandwidth, 0.01, 1.0));
  return std::make_unique<TpeSampler>(space, std::move(t));
}

}  // namespace caviar::search
