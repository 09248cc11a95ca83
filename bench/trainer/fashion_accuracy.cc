// Trains the trainer on Fashion-MNIST and prints dev/test accuracy, for the
// comparisons with PyTorch (scripts/torch/fashion_accuracy.py uses the same
// split and settings) and the batch-norm experiment (docs/).
//
//   fashion_accuracy [--epochs 10] [--hidden 256,256] [--activation relu]
//       [--batch_norm 1] [--optimizer adam] [--learning_rate 1e-3]
//       [--batch_size 128] [--seed 1] [--threads 1] [--init he]
//       [--lr_decay 0] [--l2 0]
//       [--eval_every_steps N]   (dev accuracy every N steps instead of per epoch)
//       [--data /usr/share/datasets/fashion-mnist]
//
// Split: the first 55,000 training images train, the last 5,000 are the dev
// set, the 10,000 test images are the test set. Output lines:
//   epoch=3 steps=1290 train_loss=... dev_accuracy=... test_accuracy=...
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "worker/trainer/data.h"
#include "worker/trainer/trainer.h"

using namespace caviar::trainer;

namespace {

Dataset Columns(const Dataset& data, int64_t begin, int64_t count) {
  Dataset out;
  out.num_classes = data.num_classes;
  out.features = data.features.middleCols(begin, count);
  out.labels.assign(data.labels.begin() + begin, data.labels.begin() + begin + count);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  TrainerConfig config;
  int epochs = 10;
  int64_t eval_every_steps = 0;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--epochs") epochs = std::stoi(value);
    else if (flag == "--hidden") {
      config.hidden.clear();
      std::stringstream in(value);
      std::string part;
      while (std::getline(in, part, ',')) config.hidden.push_back(std::stoi(part));
    } else if (flag == "--activation") ParseActivation(value, &config.activation);
    else if (flag == "--batch_norm") config.batch_norm = value == "1" || value == "true";
    else if (flag == "--optimizer") ParseOptimizerKind(value, &config.optimizer.kind);
    else if (flag == "--learning_rate") config.learning_rate = std::stod(value);
    else if (flag == "--batch_size") config.batch_size = std::stoi(value);
    else if (flag == "--seed") config.seed = std::stoull(value);
    else if (flag == "--threads") config.threads = std::stoi(value);
    else if (flag == "--init") ParseInitKind(value, &config.init);
    else if (flag == "--lr_decay") config.lr_decay = std::stod(value);
    else if (flag == "--l2") config.optimizer.l2 = std::stod(value);
    else if (flag == "--eval_every_steps") eval_every_steps = std::stoll(value);
    else if (flag == "--data") data_dir = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  auto all = ReadIdx(data_dir + "/train-images-idx3-ubyte.gz",
                     data_dir + "/train-labels-idx1-ubyte.gz");
  auto test = ReadIdx(data_dir + "/t10k-images-idx3-ubyte.gz",
                      data_dir + "/t10k-labels-idx1-ubyte.gz", 10);
  if (!all.ok() || !test.ok()) {
    std::fprintf(stderr, "%s\n", (!all.ok() ? all.status() : test.status()).ToString().c_str());
    return 1;
  }
  const Dataset train = Columns(*all, 0, 55000);
  const Dataset dev = Columns(*all, 55000, 5000);
  auto trainer = Trainer::Create(config, train);
  if (!trainer.ok()) {
    std::fprintf(stderr, "%s\n", trainer.status().ToString().c_str());
    return 1;
  }
  Trainer& t = **trainer;
  if (eval_every_steps <= 0) {
    t.Train(train, dev, epochs, [&](const EpochMetrics& m) {
      const Evaluation te = t.Evaluate(*test);
      std::printf(
          "epoch=%d steps=%lld train_loss=%.5f train_accuracy=%.4f dev_loss=%.5f "
          "dev_accuracy=%.4f test_loss=%.5f test_accuracy=%.4f seconds=%.2f\n",
          m.epoch, (long long)m.steps, m.train_loss, m.train_accuracy, m.dev_loss,
          m.dev_accuracy, te.loss, te.accuracy, m.seconds);
      std::fflush(stdout);
      return EpochDecision{};
    });
    return 0;
  }
  // Learning curve by steps: train on consecutive slices of a shuffled copy
  // of the training set, eval_every_steps mini-batches each.
  const int64_t slice = eval_every_steps * config.batch_size;
  Random random(config.seed + 17);
  std::vector<int64_t> order(train.size());
  for (int64_t i = 0; i < train.size(); ++i) order[i] = i;
  Dataset shuffled = train;
  int64_t steps = 0;
  std::printf("steps=0 dev_accuracy=%.4f\n", t.Evaluate(dev).accuracy);
  for (int e = 0; e < epochs; ++e) {
    random.Shuffle(order);
    for (int64_t j = 0; j < train.size(); ++j) {
      shuffled.features.col(j) = train.features.col(order[j]);
      shuffled.labels[j] = train.labels[order[j]];
    }
    for (int64_t begin = 0; begin + slice <= train.size(); begin += slice) {
      const TrainResult r = t.Train(Columns(shuffled, begin, slice), Dataset(), 1, nullptr);
      steps += eval_every_steps;
      if (r.outcome == TrainResult::Outcome::kDiverged) {
        std::printf("steps=%lld diverged\n", (long long)steps);
        return 0;
      }
      std::printf("steps=%lld dev_accuracy=%.4f\n", (long long)steps, t.Evaluate(dev).accuracy);
    }
    std::fflush(stdout);
  }
  return 0;
}
