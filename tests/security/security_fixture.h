// A real coordinator for the security tests: SQLite file, Coordinator, and
// CoordinatorServer on an ephemeral loopback port (real sockets), plaintext,
// TLS or mutual TLS with certificates made by openssl for this test run.
#ifndef CAVIAR_TESTS_SECURITY_SECURITY_FIXTURE_H_
#define CAVIAR_TESTS_SECURITY_SECURITY_FIXTURE_H_

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "caviar/v1/service.grpc.pb.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/checkpoints/checkpoint_store.h"
#include "server/rpc/server.h"
#include "server/scheduling/coordinator.h"
#include "storage/checkpoint_index.h"
#include "storage/sqlite_store.h"
#include "tests/testing/temp_dir.h"

namespace caviar::security_test {

enum class Transport { kPlain, kTls, kMutualTls };

inline std::string TransportName(Transport t) {
  switch (t) {
    case Transport::kPlain:
      return "Plain";
    case Transport::kTls:
      return "Tls";
    case Transport::kMutualTls:
      return "MutualTls";
  }
  return "?";
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A CA, a server certificate for 127.0.0.1/localhost and a client
// certificate, made once per test binary with the openssl command.
struct Certificates {
  std::string ca, server_cert, server_key, client_cert, client_key;
  // A client certificate from a CA the server does not trust.
  std::string rogue_cert, rogue_key;

  static const Certificates& Get() {
    static const Certificates* certificates = Make();
    return *certificates;
  }

 private:
  static Certificates* Make() {
    static testing::TempDir dir;
    const std::string d = dir.path();
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string script = absl::StrCat(
        "set -e; cd ", d, "; exec 2>openssl.log\n", "openssl req -x509 ", key,
        " -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca\n", "openssl req -x509 ",
        key, " -keyout rogue-ca.key -out rogue-ca.pem -days 2 -subj /CN=rogue-ca\n",
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > server.ext\n",
        "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n", "openssl req ", key,
        " -keyout server.key -out server.csr -subj /CN=localhost\n",
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial ",
        "-out server.pem -days 2 -extfile server.ext\n", "openssl req ", key,
        " -keyout client.key -out client.csr -subj /CN=pool-a\n",
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial ",
        "-out client.pem -days 2 -extfile client.ext\n", "openssl req ", key,
        " -keyout rogue.key -out rogue.csr -subj /CN=rogue\n",
        "openssl x509 -req -in rogue.csr -CA rogue-ca.pem -CAkey rogue-ca.key ",
        "-CAcreateserial -out rogue.pem -days 2 -extfile client.ext\n");
    if (std::system(script.c_str()) != 0) {
      ADD_FAILURE() << "openssl failed: " << ReadFile(d + "/openssl.log");
    }
    auto* c = new Certificates;
    c->ca = ReadFile(d + "/ca.pem");
    c->server_cert = ReadFile(d + "/server.pem");
    c->server_key = ReadFile(d + "/server.key");
    c->client_cert = ReadFile(d + "/client.pem");
    c->client_key = ReadFile(d + "/client.key");
    c->rogue_cert = ReadFile(d + "/rogue.pem");
    c->rogue_key = ReadFile(d + "/rogue.key");
    return c;
  }
};

inline v1::StudySpec Spec(const std::string& name, int max_trials = 100) {
  v1::StudySpec spec;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      absl::StrCat(R"pb(
                     objective { metric: "score" goal: MAXIMIZE }
                     parameters {
                       name: "x"
                       double { min: 0 max: 1 }
                     }
                     budget { max_trials:)pb",
                   max_trials, R"pb(                                     max_parallel_trials: 100 }
                                                                         command { argv: "unused" }
      )pb"),
      &spec));
  spec.set_name(name);
  return spec;
}

// Tokens of the test's credentials.
inline constexpr char kAdminToken[] = "admin-token-0123456789";
inline constexpr char kViewerToken[] = "viewer-token-0123456789";
inline constexpr char kPoolAToken[] = "pool-a-token-0123456789";
inline constexpr char kPoolBToken[] = "pool-b-token-0123456789";

inline std::vector<rpc::Credential> TestCredentials() {
  return {{"ops", rpc::Role::kAdmin, kAdminToken},
          {"grafana", rpc::Role::kViewer, kViewerToken},
          {"pool-a", rpc::Role::kWorker, kPoolAToken},
          {"pool-b", rpc::Role::kWorker, kPoolBToken}};
}

class CoordinatorFixture {
 public:
  explicit CoordinatorFixture(
      Transport transport, std::vector<rpc::Credential> credentials = TestCredentials())
      : transport_(transport) {
    auto store = storage::SqliteStore::Open(dir_.File("caviar.db"));
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto coordinator = scheduling::Coordinator::Create(store_.get(), Clock::Real(), {});
    EXPECT_TRUE(coordinator.ok()) << coordinator.status();
    coordinator_ = *std::move(coordinator);
    // Checkpoints next to the database, as caviar-coordinator keeps them.
    index_ = std::make_unique<storage::CheckpointIndex>(store_.get());
    auto checkpoints = checkpoints::CheckpointStore::Open(
        checkpoints::CheckpointDirFor(dir_.File("caviar.db")), index_.get(), Clock::Real());
    EXPECT_TRUE(checkpoints.ok()) << checkpoints.status();
    checkpoints_ = *std::move(checkpoints);
    rpc::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.credentials = std::move(credentials);
    options.database = store_.get();
    options.checkpoints = checkpoints_.get();
    options.backup_dir = dir_.path();
    options.audit_sink = [this](const std::string& line) {
      absl::MutexLock lock(&audit_mu_);
      audit_.push_back(line);
    };
    if (transport != Transport::kPlain) {
      const Certificates& c = Certificates::Get();
      options.tls_certificate_chain = c.server_cert;
      options.tls_private_key = c.server_key;
      if (transport == Transport::kMutualTls) options.tls_client_ca = c.ca;
    }
    auto server = rpc::CoordinatorServer::Start(coordinator_.get(), options);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // A channel as a client of this transport; with mutual TLS it presents
  // the test's client certificate unless `client_certificate` is false.
  std::shared_ptr<grpc::Channel> Channel(bool client_certificate = true,
                                         bool rogue = false) const {
    if (transport_ == Transport::kPlain) {
      return grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    }
    const Certificates& c = Certificates::Get();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = c.ca;
    if (transport_ == Transport::kMutualTls && client_certificate) {
      ssl.pem_cert_chain = rogue ? c.rogue_cert : c.client_cert;
      ssl.pem_private_key = rogue ? c.rogue_key : c.client_key;
    }
    return grpc::CreateChannel(server_->address(), grpc::SslCredentials(ssl));
  }

  std::vector<std::string> AuditLines() {
    absl::MutexLock lock(&audit_mu_);
    return audit_;
  }

  testing::TempDir dir_;
  Transport transport_;
  absl::Mutex audit_mu_;  // Before server_: the server logs until it stops.
  std::vector<std::string> audit_ ABSL_GUARDED_BY(audit_mu_);
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<scheduling::Coordinator> coordinator_;
  std::unique_ptr<storage::CheckpointIndex> index_;
  std::unique_ptr<checkpoints::CheckpointStore> checkpoints_;
  std::unique_ptr<rpc::CoordinatorServer> server_;
};

// A context with a deadline and, unless `token` is empty, a bearer token.
inline std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

}  // namespace caviar::security_test

#endif  // CAVIAR_TESTS_SECURITY_SECURITY_FIXTURE_H_
