// Token files (format, permissions, uniqueness), loopback detection, the
// secure-by-default start, and the audit log's rate limit.
#include "server/rpc/credentials.h"

#include <sys/stat.h>

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/rpc/audit.h"
#include "server/rpc/server.h"
#include "tests/security/security_fixture.h"

namespace caviar::security_test {
namespace {

using ::testing::HasSubstr;

std::string WriteFile(const testing::TempDir& dir, const std::string& name,
                      const std::string& text, mode_t mode = 0600) {
  const std::string path = dir.File(name);
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

TEST(TokenFileTest, ParsesRolesNamesAndTokens) {
  auto parsed = rpc::ParseTokens(
      "# role name token\n\nadmin alice 0123456789abcdef0\n  worker\tpool-a  "
      "fedcba98765432100  \nviewer grafana.1 aaaaaaaaaaaaaaaa\n",
      "tokens");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].name, "alice");
  EXPECT_EQ((*parsed)[0].role, rpc::Role::kAdmin);
  EXPECT_EQ((*parsed)[1].name, "pool-a");
  EXPECT_EQ((*parsed)[1].role, rpc::Role::kWorker);
  EXPECT_EQ((*parsed)[1].token, "fedcba98765432100");
  EXPECT_EQ((*parsed)[2].role, rpc::Role::kViewer);
}

TEST(TokenFileTest, BadLinesNameTheLineAndTheField) {
  struct Case {
    std::string text, expected;
  };
  for (const Case& c : std::vector<Case>{
           {"root alice 0123456789abcdef0\n", "t:1: role: unknown role \"root\""},
           {"\nadmin al/ice 0123456789abcdef0\n", "t:2: name: \"al/ice\""},
           {"admin alice short\n", "t:1: token: must be at least 16"},
           {"admin alice\n", "t:1: expected 3 fields"},
       }) {
    auto parsed = rpc::ParseTokens(c.text, "t");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.expected));
  }
}

TEST(TokenFileTest, WorldReadableFilesAreRefused) {
  testing::TempDir dir;
  rpc::TokenFiles files;
  files.tokens_file = WriteFile(dir, "tokens", "admin alice 0123456789abcdef0\n", 0644);
  auto loaded = rpc::LoadCredentials(files);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("chmod 600"));
  ::chmod(files.tokens_file.c_str(), 0640);
  EXPECT_TRUE(rpc::LoadCredentials(files).ok());
  files.admin_token_file = WriteFile(dir, "admin.token", "secret\n", 0606);
  EXPECT_EQ(rpc::LoadCredentials(files).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(TokenFileTest, SingleTokenFilesAreCredentialsWorkerAndAdmin) {
  testing::TempDir dir;
  rpc::TokenFiles files;
  files.worker_token_file = WriteFile(dir, "w", "w-secret\nignored\n");
  files.admin_token_file = WriteFile(dir, "a", "  a-secret  \n");
  auto loaded = rpc::LoadCredentials(files);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].name, "worker");
  EXPECT_EQ((*loaded)[0].token, "w-secret");
  EXPECT_EQ((*loaded)[1].name, "admin");
  EXPECT_EQ((*loaded)[1].token, "a-secret");
}

TEST(TokenFileTest, NamesAndTokensAreUnique) {
  testing::TempDir dir;
  rpc::TokenFiles files;
  files.tokens_file =
      WriteFile(dir, "t", "admin admin 0123456789abcdef0\nviewer v 1123456789abcdef0\n");
  files.admin_token_file = WriteFile(dir, "a", "another-token\n");
  EXPECT_THAT(std::string(rpc::LoadCredentials(files).status().message()),
              HasSubstr("credential name \"admin\" is given twice"));
  files.tokens_file =
      WriteFile(dir, "t", "admin a1 0123456789abcdef0\nviewer v 0123456789abcdef0\n");
  files.admin_token_file.clear();
  EXPECT_THAT(std::string(rpc::LoadCredentials(files).status().message()),
              HasSubstr("same token"));
}

TEST(LoopbackTest, OnlyAddressesThisMachineAloneCanReach) {
  for (const char* yes : {"127.0.0.1:50051", "127.1.2.3:0", "localhost:1", "[::1]:50051",
                          "unix:/tmp/caviar.sock"}) {
    EXPECT_TRUE(rpc::IsLoopbackListenAddress(yes)) << yes;
  }
  for (const char* no : {"0.0.0.0:50051", "[::]:50051", "10.0.0.5:1", "example.org:1",
                         ":50051", "128.0.0.1:1"}) {
    EXPECT_FALSE(rpc::IsLoopbackListenAddress(no)) << no;
  }
}

TEST(SecureByDefaultTest, NoTokensOffLoopbackNeedsInsecure) {
  testing::TempDir dir;
  auto store = storage::SqliteStore::Open(dir.File("caviar.db"));
  ASSERT_TRUE(store.ok());
  auto coordinator = scheduling::Coordinator::Create(store->get(), Clock::Real(), {});
  ASSERT_TRUE(coordinator.ok());
  rpc::ServerOptions options;
  options.listen = "0.0.0.0:0";
  auto refused = rpc::CoordinatorServer::Start(coordinator->get(), options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("--insecure"));
  options.insecure = true;
  EXPECT_TRUE(rpc::CoordinatorServer::Start(coordinator->get(), options).ok());
  options.insecure = false;
  options.credentials = TestCredentials();
  EXPECT_TRUE(rpc::CoordinatorServer::Start(coordinator->get(), options).ok());
}

TEST(AuditLogTest, AFloodIsRateLimitedAndCounted) {
  std::vector<std::string> lines;
  rpc::AuditLog audit([&](const std::string& line) { lines.push_back(line); },
                      /*per_second=*/1, /*burst=*/5);
  for (int i = 0; i < 1000; ++i) {
    audit.Refused("/caviar.v1.StudyService/CreateStudy", "ipv4:10.1.2.3:4444", "",
                  grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no token\nnewline"));
  }
  EXPECT_LE(lines.size(), 6u);
  EXPECT_GE(audit.suppressed(), 994);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0],
            "refused /caviar.v1.StudyService/CreateStudy peer=ipv4:10.1.2.3:4444 "
            "credential=- code=UNAUTHENTICATED reason=\"no token\\nnewline\"");
  absl::SleepFor(absl::Seconds(1.1));
  audit.Refused("/m", "p", "alice", grpc::Status(grpc::StatusCode::NOT_FOUND, "x"));
  EXPECT_THAT(lines.back(), HasSubstr("credential=alice"));
  EXPECT_THAT(lines.back(), HasSubstr("earlier refused calls not logged"));
}

}  // namespace
}  // namespace caviar::security_test
