// Golden values from PyTorch (scripts/torch/make_golden.py, float64): the
// trainer's network, loaded with the same weights and batch, must give the
// same loss, every gradient (parameters and input), batch-norm running
// averages, and the same parameters after three Adam steps. Twice: as is
// (golden_bn_mlp.txt) and with inverted dropout after each hidden layer
// (golden_bn_mlp_dropout.txt, whose masks come from PyTorch).
//
// Tolerances: in double, |ours - torch| <= 1e-9 * (1 + |torch|) per value
// (the two compute the same formulas in a different order); in float,
// 1e-5 * (1 + |torch|) for forward and gradients and 1e-4 absolute for the
// Adam trajectory (Adam divides by sqrt of a squared gradient, which
// amplifies float rounding of tiny gradients).
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "worker/trainer/network.h"
#include "worker/trainer/optimizer.h"

namespace caviar::trainer {
namespace {

using Golden = std::map<std::string, Eigen::MatrixXd>;

Golden LoadGolden(const std::string& file_name) {
  Golden golden;
  std::ifstream in(std::string(CAVIAR_TRAINER_TESTDATA) + "/" + file_name);
  EXPECT_TRUE(in.good()) << "missing fixture; run scripts/torch/make_golden.py";
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name;
    Eigen::Index rows, cols;
    fields >> name >> rows >> cols;
    Eigen::MatrixXd m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i) fields >> m.data()[i];  // Column-major.
    EXPECT_FALSE(fields.fail()) << name;
    golden[name] = m;
  }
  return golden;
}

template <typename T>
class GoldenTest : public ::testing::Test {
 protected:
  void Load(const std::string& file_name, double dropout) {
    golden_ = LoadGolden(file_name);
    ASSERT_TRUE(golden_.count("x"));
    shape_.inputs = 4;
    shape_.hidden = {5, 3};
    shape_.classes = 3;
    shape_.activation = Activation::kRelu;
    shape_.batch_norm = true;
    shape_.bn_momentum = 0.9;  // PyTorch momentum 0.1.
    shape_.bn_epsilon = 1e-5;
    shape_.dropout = dropout;
    for (int j = 0; j < 6; ++j) labels_.push_back(int32_t(golden_["labels"](0, j)));
  }

  // Caviar's tensors by the fixture's names (W0, gamma0, ..., W2, b2).
  std::map<std::string, Eigen::Map<Matrix<T>>> Tensors(Network<T>& net, bool grads) {
    std::map<std::string, Eigen::Map<Matrix<T>>> tensors;
    for (int l = 0; l < net.num_layers(); ++l) {
      const std::string i = std::to_string(l);
      tensors.emplace("W" + i, grads ? net.weight_grad(l) : net.weight(l));
      if (net.has_batch_norm(l)) {
        tensors.emplace("gamma" + i, grads ? net.gamma_grad(l) : net.gamma(l));
        tensors.emplace("beta" + i, grads ? net.beta_grad(l) : net.beta(l));
      } else {
        tensors.emplace("b" + i, grads ? net.bias_grad(l) : net.bias(l));
      }
    }
    return tensors;
  }

  void ExpectNear(const std::string& what, const Matrix<T>& ours, const std::string& key,
                  double rel, double abs) {
    ASSERT_TRUE(golden_.count(key)) << key;
    const Eigen::MatrixXd& torch = golden_[key];
    ASSERT_EQ(ours.rows(), torch.rows()) << key;
    ASSERT_EQ(ours.cols(), torch.cols()) << key;
    for (Eigen::Index i = 0; i < torch.size(); ++i) {
      const double expected = torch.data()[i];
      EXPECT_NEAR(double(ours.data()[i]), expected, abs + rel * (1 + std::abs(expected)))
          << what << " " << key << "[" << i << "]";
    }
  }

  void CheckAgainstPyTorch() {
    const bool is_double = std::is_same_v<T, double>;
    const double rel = is_double ? 1e-9 : 1e-5;
    const double adam_abs = is_double ? 0 : 1e-4;
    Network<T> net(shape_);
    net.Initialize(InitKind::kHe, 1);  // Then overwritten with the fixture's weights.
    for (auto& [name, tensor] : Tensors(net, false)) {
      tensor = golden_.at(name).template cast<T>();
    }
    const Matrix<T> x = golden_["x"].template cast<T>();
    OptimizerSettings adam;
    adam.kind = OptimizerKind::kAdam;
    Optimizer<T> optimizer(adam, net.slots());

    for (int step = 1; step <= 3; ++step) {
      const std::string prefix = "step" + std::to_string(step) + ".";
      if (net.has_dropout()) {
        for (int l = 0; l < 2; ++l) {
          net.dropout_mask(l, x.cols()) =
              golden_.at(prefix + "mask" + std::to_string(l)).template cast<T>();
        }
      }
      const T loss = net.ForwardTrain(x, labels_.data(), true, nullptr);
      ExpectNear("loss", Matrix<T>::Constant(1, 1, loss), prefix + "loss", rel, 0);
      Matrix<T> dx(x.rows(), x.cols());
      MatrixRef<T> dx_ref(dx);
      net.Backward(x, labels_.data(), &dx_ref);
      if (step == 1) {
        for (auto& [name, grad] : Tensors(net, true)) {
          ExpectNear("gradient", grad, "grad." + name, rel, 0);
        }
        ExpectNear("input gradient", dx, "grad.x", rel, 0);
      }
      optimizer.Step(net.params(), net.grads(), 0.01);
      for (auto& [name, tensor] : Tensors(net, false)) {
        ExpectNear("after Adam", tensor, prefix + name, rel, adam_abs);
      }
      for (int l = 0; l < 2; ++l) {
        ExpectNear("running mean", net.running_mean(l),
                         prefix + "running_mean" + std::to_string(l), rel, adam_abs);
        ExpectNear("running var", net.running_var(l),
                         prefix + "running_var" + std::to_string(l), rel, adam_abs);
      }
    }
  }

  Golden golden_;
  NetworkShape shape_;
  std::vector<int32_t> labels_;
};

using ScalarTypes = ::testing::Types<double, float>;
TYPED_TEST_SUITE(GoldenTest, ScalarTypes);

TYPED_TEST(GoldenTest, ForwardGradientsRunningAveragesAndAdamStepsMatchPyTorch) {
  this->Load("golden_bn_mlp.txt", 0);
  this->CheckAgainstPyTorch();
}

TYPED_TEST(GoldenTest, WithDropoutMasksFromPyTorch) {
  this->Load("golden_bn_mlp_dropout.txt", 0.4);
  this->CheckAgainstPyTorch();
}

}  // namespace
}  // namespace caviar::trainer
