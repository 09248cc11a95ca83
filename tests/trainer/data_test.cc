// Dataset readers on small generated files: IDX (raw and gzip) and CSV, the
// errors for broken input, and the train/dev split.
#include "worker/trainer/data.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace caviar::trainer {
namespace {

using ::testing::HasSubstr;

class DataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("caviar_data_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::string Write(const std::string& name, const std::string& bytes, bool gzip = false) {
    const std::string path = Path(name);
    if (gzip) {
      gzFile file = gzopen(path.c_str(), "wb");
      gzwrite(file, bytes.data(), unsigned(bytes.size()));
      gzclose(file);
    } else {
      std::ofstream(path, std::ios::binary) << bytes;
    }
    return path;
  }

  static std::string Be32(uint32_t v) {
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  }
  // count images of rows x cols with pixel (j, i) = (j * 7 + i) % 256.
  static std::string IdxImages(uint32_t count, uint32_t rows, uint32_t cols,
                               uint32_t magic = 0x00000803) {
    std::string bytes = Be32(magic) + Be32(count) + Be32(rows) + Be32(cols);
    for (uint32_t j = 0; j < count; ++j) {
      for (uint32_t i = 0; i < rows * cols; ++i) bytes.push_back(char((j * 7 + i) % 256));
    }
    return bytes;
  }
  static std::string IdxLabels(const std::string& labels) {
    return Be32(0x00000801) + Be32(uint32_t(labels.size())) + labels;
  }

  std::filesystem::path dir_;
};

TEST_F(DataTest, ReadsRawAndGzippedIdxAlike) {
  const std::string images = IdxImages(3, 2, 3);
  const std::string labels = IdxLabels(std::string{0, 2, 1});
  auto raw = ReadIdx(Write("i", images), Write("l", labels));
  auto gz = ReadIdx(Write("i.gz", images, true), Write("l.gz", labels, true));
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE(gz.ok()) << gz.status();
  EXPECT_EQ(raw->size(), 3);
  EXPECT_EQ(raw->num_features(), 6);
  EXPECT_EQ(raw->image_height, 2);
  EXPECT_EQ(raw->image_width, 3);
  EXPECT_EQ(raw->num_classes, 3);
  EXPECT_EQ(raw->labels, (std::vector<int32_t>{0, 2, 1}));
  EXPECT_FLOAT_EQ(raw->features(3, 2), float((2 * 7 + 3) % 256) / 255.0f);
  EXPECT_EQ(raw->features, gz->features);
  EXPECT_EQ(raw->labels, gz->labels);
}

TEST_F(DataTest, IdxErrorsNameTheFileAndTheProblem) {
  const std::string labels = Write("l", IdxLabels(std::string{0, 1, 1}));
  const std::string bad_magic = Write("bad_magic", IdxImages(3, 2, 2, 0x00000801));
  EXPECT_THAT(std::string(ReadIdx(bad_magic, labels).status().message()),
              AllOf(HasSubstr(bad_magic), HasSubstr("bad magic number 0x00000801")));
  std::string images = IdxImages(3, 2, 2);
  const std::string truncated = Write("truncated.gz", images.substr(0, images.size() - 1), true);
  EXPECT_THAT(std::string(ReadIdx(truncated, labels).status().message()),
              AllOf(HasSubstr(truncated), HasSubstr("truncated"),
                    HasSubstr("only 11 bytes follow")));
  const std::string four = Write("four", IdxImages(4, 2, 2));
  EXPECT_THAT(std::string(ReadIdx(four, labels).status().message()),
              HasSubstr("has 4 images but " + labels + " has 3 labels"));
  const std::string ok_images = Write("ok", images);
  EXPECT_THAT(std::string(ReadIdx(ok_images, labels, /*num_classes=*/1).status().message()),
              AllOf(HasSubstr(labels), HasSubstr("label 1 out of range [0, 1)")));
  const absl::Status missing = ReadIdx(Path("missing"), labels).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), HasSubstr(Path("missing")));
  const std::string tiny = Write("tiny", "\x00\x00");
  EXPECT_THAT(std::string(ReadIdx(tiny, labels).status().message()),
              AllOf(HasSubstr(tiny), HasSubstr("truncated")));
}

TEST_F(DataTest, ReadsCsvWithLabelByNameOrIndex) {
  const std::string path = Write("d.csv", "a,label,b\n1,0,2.5\n\n3,2,-4\n5,1,6e1\n");
  CsvOptions options;
  options.has_header = true;
  options.label_column = "label";
  auto by_name = ReadCsv(path, options);
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  EXPECT_EQ(by_name->labels, (std::vector<int32_t>{0, 2, 1}));
  EXPECT_EQ(by_name->num_classes, 3);
  ASSERT_EQ(by_name->num_features(), 2);
  EXPECT_FLOAT_EQ(by_name->features(0, 1), 3);
  EXPECT_FLOAT_EQ(by_name->features(1, 2), 60);
  options.label_column = "1";
  auto by_index = ReadCsv(path, options);
  ASSERT_TRUE(by_index.ok());
  EXPECT_EQ(by_index->features, by_name->features);

  const std::string no_header = Write("n.csv", "0.5,1\n0.25,0\n");
  options = CsvOptions{"1", false, 4};
  auto plain = ReadCsv(no_header, options);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->num_classes, 4);
  EXPECT_EQ(plain->labels, (std::vector<int32_t>{1, 0}));
}

TEST_F(DataTest, CsvErrorsNameTheFileLineAndProblem) {
  CsvOptions options{"y", true, 0};
  const std::string text = Write("t.csv", "x,y\n1,0\nabc,1\n");
  EXPECT_THAT(std::string(ReadCsv(text, options).status().message()),
              HasSubstr(text + ":3: column 0: non-numeric cell 'abc'"));
  const std::string ragged = Write("r.csv", "x,y\n1,0\n1,2,3\n");
  EXPECT_THAT(std::string(ReadCsv(ragged, options).status().message()),
              HasSubstr(ragged + ":3: 3 cells, expected 2"));
  const std::string range = Write("o.csv", "x,y\n1,0\n2,5\n");
  options.num_classes = 3;
  EXPECT_THAT(std::string(ReadCsv(range, options).status().message()),
              AllOf(HasSubstr(range), HasSubstr("label 5 out of range [0, 3)")));
  const std::string negative = Write("neg.csv", "x,y\n1,-1\n");
  EXPECT_THAT(std::string(ReadCsv(negative, options).status().message()),
              HasSubstr("label '-1' is not a non-negative integer"));
  options.label_column = "nope";
  EXPECT_THAT(std::string(ReadCsv(text, options).status().message()),
              HasSubstr("label column 'nope' is not in the header"));
}

TEST_F(DataTest, SplitIsSeededDisjointAndComplete) {
  Dataset data;
  data.num_classes = 2;
  data.features.resize(1, 50);
  for (int j = 0; j < 50; ++j) {
    data.features(0, j) = float(j);
    data.labels.push_back(j % 2);
  }
  auto a = SplitTrainDev(data, 10, 3);
  auto b = SplitTrainDev(data, 10, 3);
  auto c = SplitTrainDev(data, 10, 4);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->dev.size(), 10);
  EXPECT_EQ(a->train.size(), 40);
  EXPECT_EQ(a->dev.features, b->dev.features);
  EXPECT_NE(a->dev.features, c->dev.features);
  std::set<float> seen;
  for (const Dataset* part : {&a->train, &a->dev}) {
    for (int64_t j = 0; j < part->size(); ++j) {
      const float v = part->features(0, j);
      EXPECT_TRUE(seen.insert(v).second);
      EXPECT_EQ(part->labels[j], int(v) % 2);
    }
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(SplitTrainDev(data, 50, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Head(data, 7).size(), 7);
  EXPECT_EQ(Head(data, 0).size(), 50);
}

TEST_F(DataTest, ImageShapeSurvivesSplitAndHead) {
  auto images = ReadIdx(Write("i", IdxImages(20, 4, 5)),
                   Write("l", IdxLabels(std::string(10, char(1)) + std::string(10, char(0)))));
  ASSERT_TRUE(images.ok()) << images.status();
  auto split = SplitTrainDev(*images, 5, 1);
  ASSERT_TRUE(split.ok());
  for (const Dataset* part : {&split->train, &split->dev}) {
    EXPECT_EQ(part->image_height, 4);
    EXPECT_EQ(part->image_width, 5);
    EXPECT_EQ(part->num_classes, 2);
  }
  EXPECT_EQ(Head(*images, 3).image_width, 5);
}

TEST(FashionMnistTest, ReadsTheDebianPackage) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(dir + "t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  }
  auto test = ReadIdx(dir + "t10k-images-idx3-ubyte.gz", dir + "t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(test->size(), 10000);
  EXPECT_EQ(test->num_features(), 784);
  EXPECT_EQ(test->num_classes, 10);
}

}  // namespace
}  // namespace caviar::trainer
