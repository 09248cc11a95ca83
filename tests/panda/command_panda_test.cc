// The user's command in panda mode (worker/command_panda.h): control lines,
// the nudge file, the checkpoint folder's packing, and SIGUSR1 that spares
// processes without a handler.
#include "worker/command_panda.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/temp_dir.h"

namespace caviar::worker {
namespace {

using ::testing::HasSubstr;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ControlLineTest, NudgeAcksAndCheckpoints) {
  auto ack = ParseControlLine("caviar: nudge-ack 3");
  ASSERT_TRUE(ack.ok() && ack->has_value());
  EXPECT_EQ((*ack)->kind, ControlLine::Kind::kNudgeAck);
  EXPECT_EQ((*ack)->value, 3);
  auto checkpoint = ParseControlLine("  caviar:  checkpoint step=12");
  ASSERT_TRUE(checkpoint.ok() && checkpoint->has_value());
  EXPECT_EQ((*checkpoint)->kind, ControlLine::Kind::kCheckpoint);
  EXPECT_EQ((*checkpoint)->value, 12);
  // Metrics lines and others are not control lines.
  for (const char* other :
       {"caviar: step=3 loss=0.5", "caviar: checkpoint_loss=0.2", "caviar: nudge-acks=1",
        "checkpoint step=3", "{\"step\": 1}"}) {
    auto parsed = ParseControlLine(other);
    ASSERT_TRUE(parsed.ok()) << other;
    EXPECT_FALSE(parsed->has_value()) << other;
  }
  EXPECT_THAT(ParseControlLine("caviar: nudge-ack x").status().message(),
              HasSubstr("expected a non-negative integer, got \"x\""));
  EXPECT_THAT(ParseControlLine("caviar: checkpoint 3").status().message(),
              HasSubstr("needs step=N"));
}

TEST(CommandWorkspaceTest, TheNudgeFileHoldsEveryNudgeAndTheCurrentValues) {
  caviar::v1::Trial trial;
  trial.set_id(7);
  (*trial.mutable_parameters())["lr"].set_double_value(0.1);
  (*trial.mutable_parameters())["opt"].set_string_value("sgd");
  std::string root;
  {
    auto workspace = CommandWorkspace::Create(trial);
    ASSERT_TRUE(workspace.ok()) << workspace.status();
    root = std::filesystem::path(workspace->nudge_file()).parent_path().string();
    EXPECT_TRUE(std::filesystem::is_directory(workspace->checkpoint_dir()));
    nlohmann::json doc = nlohmann::json::parse(Read(workspace->nudge_file()));
    EXPECT_EQ(doc["nudges"].size(), 0u);
    EXPECT_EQ(doc["parameters"]["lr"], 0.1);

    caviar::v1::Nudge first;
    first.set_id(1);
    first.set_delivered_after_step(4);
    (*first.mutable_parameters())["lr"].set_double_value(0.05);
    caviar::v1::Nudge second;
    second.set_id(2);
    (*second.mutable_parameters())["lr"].set_double_value(0.01);
    ASSERT_TRUE(workspace->AddNudges({first}).ok());
    ASSERT_TRUE(workspace->AddNudges({second}).ok());
    doc = nlohmann::json::parse(Read(workspace->nudge_file()));
    ASSERT_EQ(doc["nudges"].size(), 2u);
    EXPECT_EQ(doc["nudges"][0]["id"], 1);
    EXPECT_EQ(doc["nudges"][0]["after_step"], 4);
    EXPECT_EQ(doc["parameters"]["lr"], 0.01);  // The later nudge wins.
    EXPECT_EQ(doc["parameters"]["opt"], "sgd");
    EXPECT_EQ(doc["trial"], 7);
    EXPECT_FALSE(std::filesystem::exists(workspace->nudge_file() + ".tmp"));
  }
  EXPECT_FALSE(std::filesystem::exists(root));  // Removed with the run.
}

TEST(PackDirectoryTest, RoundTripsFilesFoldersAndModesDeterministically) {
  testing::TempDir dir;
  const std::string from = dir.File("from");
  std::filesystem::create_directories(from + "/sub/deeper");
  std::ofstream(from + "/weights.bin", std::ios::binary) << std::string("\0\1\2xyz", 6);
  std::ofstream(from + "/sub/deeper/state.json") << "{\"step\": 3}";
  ::chmod((from + "/sub/deeper/state.json").c_str(), 0600);
  auto packed = PackDirectory(from);
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(*PackDirectory(from), *packed);

  const std::string to = dir.File("to");
  std::filesystem::create_directories(to);
  std::ofstream(to + "/stale") << "from an earlier run";
  ASSERT_TRUE(UnpackDirectory(*packed, to).ok());
  EXPECT_EQ(Read(to + "/weights.bin"), std::string("\0\1\2xyz", 6));
  EXPECT_EQ(Read(to + "/sub/deeper/state.json"), "{\"step\": 3}");
  EXPECT_FALSE(std::filesystem::exists(to + "/stale"));
  struct stat st;
  ASSERT_EQ(::stat((to + "/sub/deeper/state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*PackDirectory(to), *packed);
}

TEST(PackDirectoryTest, RefusesLinksAndUnsafePaths) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.File("from"));
  std::filesystem::create_symlink("/etc/passwd", dir.File("from/link"));
  EXPECT_THAT(PackDirectory(dir.File("from")).status().message(),
              HasSubstr("link is neither a regular file nor a folder"));

  std::string evil("CAVDIR01f", 9);
  auto put = [&evil](uint64_t v) { evil.append(reinterpret_cast<const char*>(&v), 8); };
  put(0644);
  put(5);
  evil += "../x1";
  put(1);
  evil += "x";
  const absl::Status status = UnpackDirectory(evil, dir.File("to"));
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("unsafe path \"../x1\""));
  EXPECT_FALSE(std::filesystem::exists(dir.File("x1")));
  EXPECT_EQ(UnpackDirectory("nonsense", dir.File("to")).code(),
            absl::StatusCode::kDataLoss);
}

TEST(SignalNudgeTest, SparesProcessesThatDoNotHandleSigusr1) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setpgid(0, 0);
    ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(child, child);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // exec'd by now.
  EXPECT_EQ(SignalNudge(child), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, WNOHANG), 0);  // Still running.
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
}

}  // namespace
}  // namespace caviar::worker
