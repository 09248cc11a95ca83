#include "bench/search/functions.h"

#include <cmath>

namespace caviar::search::bench {
namespace {

constexpr double kPi = 3.14159265358979323846;

caviar::v1::ParameterSpec Double(const std::string& name, double min, double max,
                                 caviar::v1::Scale scale = caviar::v1::LINEAR) {
  caviar::v1::ParameterSpec p;
  p.set_name(name);
  p.mutable_double_()->set_min(min);
  p.mutable_double_()->set_max(max);
  p.set_scale(scale);
  return p;
}

caviar::v1::ParameterSpec Integer(const std::string& name, int64_t min, int64_t max,
                                  caviar::v1::Scale scale = caviar::v1::LINEAR) {
  caviar::v1::ParameterSpec p;
  p.set_name(name);
  p.mutable_integer()->set_min(min);
  p.mutable_integer()->set_max(max);
  p.set_scale(scale);
  return p;
}

caviar::v1::ParameterSpec Categorical(const std::string& name,
                                      const std::vector<std::string>& values) {
  caviar::v1::ParameterSpec p;
  p.set_name(name);
  for (const std::string& v : values) p.mutable_categorical()->add_values(v);
  return p;
}

std::vector<caviar::v1::ParameterSpec> Box(int d, double lo, double hi) {
  std::vector<caviar::v1::ParameterSpec> params;
  for (int i = 0; i < d; ++i) params.push_back(Double("x" + std::to_string(i + 1), lo, hi));
  return params;
}

double Branin(const std::vector<double>& x) {
  const double b = 5.1 / (4 * kPi * kPi), c = 5 / kPi, t = 1 / (8 * kPi);
  const double u = x[1] - b * x[0] * x[0] + c * x[0] - 6;
  return u * u + 10 * (1 - t) * std::cos(x[0]) + 10;
}

double Hartmann(const std::vector<double>& x, const double (*a)[6],
                const double (*p)[6]) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (size_t j = 0; j < x.size(); ++j)
      inner += a[i][j] * (x[j] - p[i][j]) * (x[j] - p[i][j]);
    sum += alpha[i] * std::exp(-inner);
  }
  return -sum;
}

double Hartmann6(const std::vector<double>& x) {
  static const double a[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double p[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  return Hartmann(x, a, p);
}

double Hartmann3(const std::vector<double>& x) {
  static const double a[4][6] = {
      {3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}};
  static const double p[4][6] = {{0.3689, 0.1170, 0.2673},
                                 {0.4699, 0.4387, 0.7470},
                                 {0.1091, 0.8732, 0.5547},
                                 {0.0381, 0.5743, 0.8828}};
  return Hartmann(x, a, p);
}

// The course notes' example: the learning rate matters, Adam's epsilon
// hardly does. Optimum at learning_rate = 10^-1.7, epsilon = 1e-8.
double AlphaEpsilon(const std::vector<double>& x) {
  const double a = std::log10(x[0]) + 1.7, e = std::log10(x[1]) + 8;
  return a * a + 0.001 * e * e;
}

double SixHumpCamel(const std::vector<double>& x) {
  const double a = x[0], b = x[1];
  return (4 - 2.1 * a * a + a * a * a * a / 3) * a * a + a * b + (-4 + 4 * b * b) * b * b;
}

double GoldsteinPrice(const std::vector<double>& x) {
  const double a = x[0], b = x[1];
  const double s = a + b + 1, t = 2 * a - 3 * b;
  return (1 + s * s * (19 - 14 * a + 3 * a * a - 14 * b + 6 * a * b + 3 * b * b)) *
         (30 + t * t * (18 - 32 * a + 12 * a * a + 48 * b - 36 * a * b + 27 * b * b));
}

double Rastrigin(const std::vector<double>& x) {
  double s = 10.0 * x.size();
  for (double v : x) s += v * v - 10 * std::cos(2 * kPi * v);
  return s;
}

double Rosenbrock(const std::vector<double>& x) {
  double s = 0;
  for (size_t i = 0; i + 1 < x.size(); ++i) {
    const double u = x[i + 1] - x[i] * x[i], v = 1 - x[i];
    s += 100 * u * u + v * v;
  }
  return s;
}

double Ackley(const std::vector<double>& x) {
  double sq = 0, cs = 0;
  for (double v : x) {
    sq += v * v;
    cs += std::cos(2 * kPi * v);
  }
  const double n = static_cast<double>(x.size());
  return -20 * std::exp(-0.2 * std::sqrt(sq / n)) - std::exp(cs / n) + 20 + std::exp(1.0);
}

double Levy(const std::vector<double>& x) {
  const size_t d = x.size();
  auto w = [&](size_t i) { return 1 + (x[i] - 1) / 4; };
  const double s0 = std::sin(kPi * w(0));
  double s = s0 * s0;
  for (size_t i = 0; i + 1 < d; ++i) {
    const double si = std::sin(kPi * w(i) + 1);
    s += (w(i) - 1) * (w(i) - 1) * (1 + 10 * si * si);
  }
  const double sd = std::sin(2 * kPi * w(d - 1));
  return s + (w(d - 1) - 1) * (w(d - 1) - 1) * (1 + sd * sd);
}

double StyblinskiTang(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v * v * v * v - 16 * v * v + 5 * v;
  return s / 2;
}

// 1 - exp(-q / width): 0 at the optimum, near 1 (diverged) away from it.
double Well(double q, double width) { return 1 - std::exp(-q / width); }

// A network's tuning, shaped like the notes' advice: plain sgd is easy (good
// almost anywhere) but never best; adam is best, in a narrow learning-rate
// window (about 15% of the decades) with beta close to 0.997.
// optimizer, layers, learning_rate (LOG), beta (LOG1M), units (integer LOG).
double MixedMlp(const std::vector<double>& x) {
  const int optimizer = static_cast<int>(x[0]);
  const double layers = x[1], a = std::log10(x[2]), b = std::log10(1 - x[3]),
               u = std::log2(x[4]);
  const double shape = 0.01 * (layers - 4) * (layers - 4) + 0.01 * (u - 8) * (u - 8);
  switch (optimizer) {
    case 0:  // sgd
      return shape + 0.30 + 0.02 * (a + 1.5) * (a + 1.5);
    case 1:  // momentum
      return shape + 0.10 + Well((a + 2) * (a + 2), 0.8) + 0.05 * (b + 1.5) * (b + 1.5);
    case 2:  // rmsprop
      return shape + 0.15 + Well((a + 3.5) * (a + 3.5), 0.5) + 0.05 * (b + 2) * (b + 2);
    default:  // adam
      return shape + Well((a + 3) * (a + 3), 0.4) + 0.1 * (b + 2.5) * (b + 2.5);
  }
}

// Held out: another network, the easy optimizer in the middle, the best one
// first, its learning rate coupled with weight decay.
// optimizer, dropout, weight_decay (LOG), learning_rate (LOG), beta (LOG1M),
// batch_log2 (integer).
double MixedCnn(const std::vector<double>& x) {
  const int optimizer = static_cast<int>(x[0]);
  const double dropout = x[1], w = std::log10(x[2]), a = std::log10(x[3]),
               b = std::log10(1 - x[4]), batch = x[5];
  const double shape =
      0.3 * (dropout - 0.3) * (dropout - 0.3) + 0.01 * (batch - 6) * (batch - 6);
  switch (optimizer) {
    case 0:  // adamw
      return shape + Well((a + 3.3) * (a + 3.3) + 0.2 * (w + 2) * (w + 2), 0.5) +
             0.08 * (b + 2) * (b + 2);
    case 1:  // sgd
      return shape + 0.25 + 0.02 * (a + 1) * (a + 1) + 0.01 * (w + 4) * (w + 4);
    default:  // adam
      return shape + 0.12 + Well((a + 3) * (a + 3), 0.5) + 0.08 * (b + 2) * (b + 2);
  }
}

}  // namespace

std::vector<TestFunction> Functions() {
  using caviar::v1::LOG;
  using caviar::v1::LOG1M;
  std::vector<TestFunction> fs;
  fs.push_back({"alpha_epsilon",
                {Double("learning_rate", 1e-4, 1, LOG), Double("epsilon", 1e-10, 1e-6, LOG)},
                AlphaEpsilon,
                0.0});
  fs.push_back({"branin", {Double("x1", -5, 10), Double("x2", 0, 15)}, Branin,
                0.397887357729739});
  fs.push_back({"hartmann6", Box(6, 0, 1), Hartmann6, -3.32236801141551});
  fs.push_back({"rosenbrock4", Box(4, -5, 10), Rosenbrock, 0.0});
  fs.push_back({"six_hump_camel", {Double("x1", -3, 3), Double("x2", -2, 2)}, SixHumpCamel,
                -1.0316284534898774});
  fs.push_back({"mixed_mlp",
                {Categorical("optimizer", {"sgd", "momentum", "rmsprop", "adam"}),
                 Integer("layers", 1, 8), Double("learning_rate", 1e-5, 1, LOG),
                 Double("beta", 0.8, 0.9999, LOG1M), Integer("units", 16, 1024, LOG)},
                MixedMlp,
                0.0});
  // Held out (bench/search/README.md).
  fs.push_back({"goldstein_price", Box(2, -2, 2), GoldsteinPrice, 3.0});
  fs.push_back({"hartmann3", Box(3, 0, 1), Hartmann3, -3.86278214782076});
  fs.push_back({"rastrigin3", Box(3, -5.12, 5.12), Rastrigin, 0.0});
  fs.push_back({"ackley5", Box(5, -32.768, 32.768), Ackley, 0.0});
  fs.push_back({"levy6", Box(6, -10, 10), Levy, 0.0});
  fs.push_back({"styblinski_tang8", Box(8, -5, 5), StyblinskiTang, -39.16616570377142 * 8});
  fs.push_back({"mixed_cnn",
                {Categorical("optimizer", {"adamw", "sgd", "adam"}),
                 Double("dropout", 0, 0.8), Double("weight_decay", 1e-6, 1e-1, LOG),
                 Double("learning_rate", 1e-5, 1, LOG), Double("beta", 0.8, 0.9999, LOG1M),
                 Integer("batch_log2", 4, 9)},
                MixedCnn,
                0.0});
  return fs;
}

}  // namespace caviar::search::bench
