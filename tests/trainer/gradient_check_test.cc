// Gradient checks in double: every parameter tensor of every layer and the
// input, in training mode (batch statistics, dropout masks), against central
// differences.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "worker/trainer/network.h"
#include "worker/trainer/random.h"

namespace caviar::trainer {
namespace {

struct Case {
  Activation activation;
  bool batch_norm;
  std::string name;
  double dropout = 0;
};

class GradientCheckTest : public ::testing::TestWithParam<Case> {};

// ||a - b|| / (||a|| + ||b||), the course notes' relative error.
double RelativeError(const Eigen::VectorXd& analytic, const Eigen::VectorXd& numeric) {
  const double denom = analytic.norm() + numeric.norm();
  return denom == 0 ? 0 : (analytic - numeric).norm() / denom;
}

TEST_P(GradientCheckTest, AnalyticGradientsMatchCentralDifferences) {
  const Case& c = GetParam();
  NetworkShape shape;
  shape.inputs = 5;
  shape.hidden = {6, 4};
  shape.classes = 3;
  shape.activation = c.activation;
  shape.batch_norm = c.batch_norm;
  shape.dropout = c.dropout;
  Network<double> net(shape);
  net.Initialize(InitKind::kXavier, 7);
  Random random(11);
  // Non-trivial gammas and betas, so that their gradients matter.
  for (int l = 0; l + 1 < net.num_layers(); ++l) {
    if (!net.has_batch_norm(l)) continue;
    for (Eigen::Index i = 0; i < net.gamma(l).size(); ++i) {
      net.gamma(l)(i) = 0.5 + random.Uniform();
      net.beta(l)(i) = random.Uniform() - 0.5;
    }
  }
  for (Eigen::Index i = 0; i < net.params().size(); ++i) {
    if (net.params()[i] == 0) net.params()[i] = 0.1 * (random.Uniform() - 0.5);
  }
  const int n = 8;
  Eigen::MatrixXd x(shape.inputs, n);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = 2 * random.Normal();
  std::vector<int32_t> labels(n);
  for (int j = 0; j < n; ++j) labels[j] = int32_t(random.Below(shape.classes));
  // One draw of masks, applied by every forward pass below.
  net.DrawDropoutMasks(n, random);
  if (c.dropout > 0) {
    for (int l = 0; l + 1 < net.num_layers(); ++l) {
      const auto mask = net.dropout_mask(l, n);
      EXPECT_TRUE((mask.array() == 0).any()) << "layer " << l << " dropped nothing";
      EXPECT_TRUE((mask.array() == 1 / (1 - c.dropout)).any()) << "layer " << l;
    }
  }

  auto loss = [&](const Eigen::MatrixXd& input) {
    return net.ForwardTrain(input, labels.data(), /*update_running_stats=*/false, nullptr);
  };
  loss(x);
  Eigen::MatrixXd dx(shape.inputs, n);
  MatrixRef<double> dx_ref(dx);
  net.Backward(x, labels.data(), &dx_ref);
  const Eigen::VectorXd analytic = net.grads();
  const Eigen::VectorXd running_before = net.running_stats();

  const double h = 1e-5;
  Eigen::VectorXd numeric(net.params().size());
  for (Eigen::Index i = 0; i < net.params().size(); ++i) {
    const double saved = net.params()[i];
    net.params()[i] = saved + h;
    const double plus = loss(x);
    net.params()[i] = saved - h;
    const double minus = loss(x);
    net.params()[i] = saved;
    numeric[i] = (plus - minus) / (2 * h);
  }
  int checked = 0;
  for (const TensorSlot& slot : net.slots()) {
    const double error = RelativeError(analytic.segment(slot.offset, slot.size()),
                                       numeric.segment(slot.offset, slot.size()));
    EXPECT_LT(error, 1e-6) << "tensor at offset " << slot.offset << " (" << slot.rows
                           << "x" << slot.cols << ")";
    EXPECT_GT(analytic.segment(slot.offset, slot.size()).norm(), 1e-6)
        << "a zero gradient proves nothing; offset " << slot.offset;
    ++checked;
  }
  // W, gamma, beta per hidden layer with BN (W, b without), W and b at the output.
  EXPECT_EQ(checked, c.batch_norm ? 3 * 2 + 2 : 2 * 3);

  Eigen::MatrixXd numeric_dx(shape.inputs, n);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    Eigen::MatrixXd shifted = x;
    shifted.data()[i] += h;
    const double plus = loss(shifted);
    shifted.data()[i] -= 2 * h;
    const double minus = loss(shifted);
    numeric_dx.data()[i] = (plus - minus) / (2 * h);
  }
  EXPECT_LT(RelativeError(dx.reshaped(), numeric_dx.reshaped()), 1e-6) << "input gradient";
  // Checking gradients must not have moved the running averages.
  EXPECT_EQ(net.running_stats(), running_before);
}

INSTANTIATE_TEST_SUITE_P(
    AllLayers, GradientCheckTest,
    ::testing::Values(Case{Activation::kRelu, true, "relu_bn"},
                      Case{Activation::kTanh, true, "tanh_bn"},
                      Case{Activation::kSigmoid, true, "sigmoid_bn"},
                      Case{Activation::kRelu, false, "relu"},
                      Case{Activation::kTanh, false, "tanh"},
                      Case{Activation::kSigmoid, false, "sigmoid"},
                      Case{Activation::kRelu, true, "relu_bn_dropout", 0.3},
                      Case{Activation::kTanh, true, "tanh_bn_dropout", 0.3},
                      Case{Activation::kSigmoid, false, "sigmoid_dropout", 0.3}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// The batch-norm backward alone, with an arbitrary upstream gradient G on the
// output (loss = sum(G .* a)), so a softmax cannot hide a wrong term.
TEST(BatchNormGradientTest, FusedBatchNormActivationBackward) {
  for (Activation activation : {Activation::kRelu, Activation::kTanh, Activation::kSigmoid}) {
    const int units = 4, n = 7;
    Random random(3);
    Eigen::MatrixXd z(units, n), g(units, n);
    for (Eigen::Index i = 0; i < z.size(); ++i) {
      z.data()[i] = random.Normal() + 1.0;
      g.data()[i] = random.Normal();
    }
    Eigen::VectorXd gamma(units), beta(units);
    for (int i = 0; i < units; ++i) {
      gamma[i] = 0.5 + random.Uniform();
      beta[i] = random.Uniform() - 0.5;
    }
    auto forward = [&](const Eigen::MatrixXd& zin, const Eigen::VectorXd& ga,
                       const Eigen::VectorXd& be, Eigen::MatrixXd* z_norm,
                       Eigen::MatrixXd* a, Eigen::VectorXd* inv_std) {
      *z_norm = zin;
      a->resize(units, n);
      Eigen::VectorXd rm = Eigen::VectorXd::Zero(units), rv = Eigen::VectorXd::Ones(units);
      Eigen::VectorXd scratch(units);
      inv_std->resize(units);
      BatchNormActivationForwardTrain<double>(activation, *z_norm, ga, be, 1e-5, 1.0, rm, rv,
                                              *inv_std, scratch, *a);
      return (g.array() * a->array()).sum();
    };
    Eigen::MatrixXd z_norm, a;
    Eigen::VectorXd inv_std;
    forward(z, gamma, beta, &z_norm, &a, &inv_std);
    Eigen::MatrixXd d = g;
    Eigen::VectorXd dgamma(units), dbeta(units);
    BatchNormActivationBackward<double>(activation, z_norm, a, gamma, inv_std, d, dgamma,
                                        dbeta);
    const double h = 1e-5;
    Eigen::MatrixXd tmp_n, tmp_a;
    Eigen::VectorXd tmp_s;
    Eigen::MatrixXd numeric_dz(units, n);
    for (Eigen::Index i = 0; i < z.size(); ++i) {
      Eigen::MatrixXd zp = z, zm = z;
      zp.data()[i] += h;
      zm.data()[i] -= h;
      numeric_dz.data()[i] = (forward(zp, gamma, beta, &tmp_n, &tmp_a, &tmp_s) -
                              forward(zm, gamma, beta, &tmp_n, &tmp_a, &tmp_s)) /
                             (2 * h);
    }
    Eigen::VectorXd numeric_dgamma(units), numeric_dbeta(units);
    for (int i = 0; i < units; ++i) {
      Eigen::VectorXd gp = gamma, gm = gamma, bp = beta, bm = beta;
      gp[i] += h;
      gm[i] -= h;
      bp[i] += h;
      bm[i] -= h;
      numeric_dgamma[i] = (forward(z, gp, beta, &tmp_n, &tmp_a, &tmp_s) -
                           forward(z, gm, beta, &tmp_n, &tmp_a, &tmp_s)) /
                          (2 * h);
      numeric_dbeta[i] = (forward(z, gamma, bp, &tmp_n, &tmp_a, &tmp_s) -
                          forward(z, gamma, bm, &tmp_n, &tmp_a, &tmp_s)) /
                         (2 * h);
    }
    EXPECT_LT(RelativeError(d.reshaped(), numeric_dz.reshaped()), 1e-6);
    EXPECT_LT(RelativeError(dgamma, numeric_dgamma), 1e-6);
    EXPECT_LT(RelativeError(dbeta, numeric_dbeta), 1e-6);
  }
}

}  // namespace
}  // namespace caviar::trainer

namespace caviar::trainer {
namespace {

// Dropout folded into the batch-norm/activation pass computes exactly what
// the separate passes compute (same mask), forward and backward, in the
// float the trainer trains in.
TEST(DropoutFoldTest, FoldedEqualsSeparatePasses) {
  for (Activation activation : {Activation::kRelu, Activation::kTanh, Activation::kSigmoid}) {
    const int units = 37, n = 19;
    Random random(5);
    Eigen::MatrixXf z(units, n), g(units, n), mask(units, n);
    for (Eigen::Index i = 0; i < z.size(); ++i) {
      z.data()[i] = float(random.Normal() + 0.5);
      g.data()[i] = float(random.Normal());
    }
    DrawDropoutMask<float>(0.3, random, mask);
    ASSERT_TRUE((mask.array() == 0).any() && (mask.array() > 1).any());
    Eigen::VectorXf gamma(units), beta(units);
    for (int i = 0; i < units; ++i) {
      gamma[i] = float(0.5 + random.Uniform());
      beta[i] = float(random.Uniform() - 0.5);
    }
    struct Pass {
      Eigen::MatrixXf z_norm, a, dropped, d;
      Eigen::VectorXf inv_std, mean, running_mean, running_var, dgamma, dbeta;
    };
    auto run = [&](bool folded) {
      Pass p;
      p.z_norm = z;
      p.a.resize(units, n);
      p.dropped.resize(units, n);
      p.inv_std.resize(units);
      p.mean.resize(units);
      p.running_mean.setZero(units);
      p.running_var.setOnes(units);
      p.dgamma.resize(units);
      p.dbeta.resize(units);
      Dropout<float> dropout(mask, p.dropped);
      BatchNormActivationForwardTrain<float>(activation, p.z_norm, gamma, beta, 1e-5f, 0.9f,
                                             p.running_mean, p.running_var, p.inv_std, p.mean,
                                             p.a, folded ? &dropout : nullptr);
      if (!folded) DropoutForward<float>(mask, p.a, p.dropped);
      p.d = g;  // The gradient wrt the dropout's output.
      const ConstMatrixRef<float> mask_ref(mask);
      if (!folded) DropoutBackward<float>(mask, p.d);
      BatchNormActivationBackward<float>(activation, p.z_norm, p.a, gamma, p.inv_std, p.d,
                                         p.dgamma, p.dbeta, folded ? &mask_ref : nullptr);
      return p;
    };
    const Pass separate = run(false);
    const Pass folded = run(true);
    EXPECT_EQ(folded.dropped, separate.dropped) << int(activation);
    EXPECT_EQ(folded.a, separate.a) << int(activation);
    EXPECT_EQ(folded.z_norm, separate.z_norm) << int(activation);
    EXPECT_EQ(folded.running_var, separate.running_var) << int(activation);
    EXPECT_EQ(folded.d, separate.d) << int(activation);
    EXPECT_EQ(folded.dgamma, separate.dgamma) << int(activation);
    EXPECT_EQ(folded.dbeta, separate.dbeta) << int(activation);
    // And the mask acted: a dropped unit's output is zero.
    EXPECT_TRUE(((mask.array() == 0).select(folded.dropped.array(), 0.0f) == 0).all());
  }
}

}  // namespace
}  // namespace caviar::trainer
