// The coordinator's JSON API over real HTTP on loopback, against a real
// caviar-coordinator process whose trials this test makes over gRPC.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include "common/digest/sha256.h"
#include "gmock/gmock.h"
#include "tests/http/http_fixture.h"

namespace caviar::testing {
namespace {

using ::testing::HasSubstr;

std::vector<int64_t> Ids(const Json& trials) {
  std::vector<int64_t> ids;
  for (const Json& trial : trials)
    ids.push_back(std::stoll(trial["id"].get<std::string>()));
  return ids;
}

class HttpApiTest : public HttpFixture {
 protected:
  // Completes trial `id` (taken by TakeTrial) as DIVERGED with `reason`.
  void Diverge(int64_t id, const std::string& reason) {
    caviar::v1::CompleteTrialRequest request;
    request.set_trial_id(id);
    request.set_worker_id(leases_[id].first);
    request.set_attempt(leases_[id].second);
    request.set_failure_kind(caviar::v1::DIVERGED);
    request.set_failure_reason(reason);
    caviar::v1::Trial trial;
    grpc::ClientContext context;
    ASSERT_TRUE(workers_->CompleteTrial(&context, request, &trial).ok());
  }
};

TEST_F(HttpApiTest, StudiesListTheirStateCountsProgressAndBestTrial) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("alpha", 10);
  RunTrial("alpha", 0.5);
  const int64_t best = RunTrial("alpha", 0.9);
  RunTrial("alpha", 0.7);
  TakeTrial("alpha");  // ACTIVE.

  Reply reply = Get("/api/v1/studies");
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_EQ(reply.json["studies"].size(), 1u) << reply.body;
  const Json& study = reply.json["studies"][0];
  EXPECT_EQ(study["spec"]["name"], "alpha");
  EXPECT_EQ(study["state"], "STUDY_ACTIVE");
  EXPECT_EQ(study["succeeded_trials"], 3);
  EXPECT_EQ(study["active_trials"], 1);
  EXPECT_TRUE(study.contains("create_time")) << study;
  EXPECT_DOUBLE_EQ(study["progress"].get<double>(), 0.3);
  EXPECT_EQ(study["best_trial"]["id"], std::to_string(best));
  EXPECT_DOUBLE_EQ(study["best_trial"]["objective_value"].get<double>(), 0.9);
  EXPECT_FALSE(study["best_trial"].contains("measurements"));

  Reply one = Get("/api/v1/studies/alpha");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json["spec"]["objective"]["metric"], "score");
  EXPECT_EQ(one.json["spec"]["parameters"][0]["name"], "x");
  EXPECT_EQ(one.json["best_trial"]["id"], std::to_string(best));

  Reply best_trials = Get("/api/v1/studies/alpha/best?top=2");
  ASSERT_EQ(best_trials.status, 200) << best_trials.body;
  EXPECT_EQ(Ids(best_trials.json["trials"]).front(), best);
  EXPECT_EQ(best_trials.json["trials"].size(), 2u);
}

TEST_F(HttpApiTest, TrialsAreFetchedIncrementallyAfterACursor) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("inc", 100);
  CreateStudy("other", 100);
  std::vector<int64_t> all;
  for (int i = 0; i < 12; ++i) {
    all.push_back(RunTrial("inc", 0.01 * i, /*steps=*/1));
    RunTrial("other", 0.5, 1);  // Interleaved ids of another study.
  }
  // Pages of 5: each resumes after the last id it got; nothing twice.
  std::vector<int64_t> seen;
  int64_t after = 0;
  for (int page = 0; page < 10; ++page) {
    Reply reply = Get(absl::StrCat("/api/v1/studies/inc/trials?limit=5&after=", after));
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.json["total"], 12);
    std::vector<int64_t> ids = Ids(reply.json["trials"]);
    EXPECT_LE(ids.size(), 5u);
    seen.insert(seen.end(), ids.begin(), ids.end());
    after = reply.json["next_after"].get<int64_t>();
    if (!reply.json["more"].get<bool>()) break;
  }
  EXPECT_EQ(seen, all);
  EXPECT_EQ(after, all.back());

  // Nothing new: an empty page that keeps the cursor.
  Reply idle = Get(absl::StrCat("/api/v1/studies/inc/trials?after=", after));
  ASSERT_EQ(idle.status, 200);
  EXPECT_TRUE(idle.json["trials"].empty());
  EXPECT_EQ(idle.json["next_after"], after);
  EXPECT_FALSE(idle.json["more"].get<bool>());

  // A new trial: only it comes back.
  const int64_t fresh = RunTrial("inc", 0.99, 2);
  Reply next =
      Get(absl::StrCat("/api/v1/studies/inc/trials?measurements=true&after=", after));
  ASSERT_EQ(next.status, 200);
  EXPECT_EQ(Ids(next.json["trials"]), std::vector<int64_t>{fresh});
  EXPECT_EQ(next.json["trials"][0]["measurements"].size(), 2u) << next.body;
  // Without measurements=true, no curves.
  Reply bare = Get("/api/v1/studies/inc/trials?limit=1");
  EXPECT_FALSE(bare.json["trials"][0].contains("measurements")) << bare.body;

  // A cursor in the middle, one that is not a trial of this study.
  Reply middle = Get(absl::StrCat("/api/v1/studies/inc/trials?after=", all[5] + 1));
  EXPECT_EQ(Ids(middle.json["trials"]).front(), all[6]);
  // A state filter.
  TakeTrial("inc");
  Reply active = Get("/api/v1/studies/inc/trials?state=ACTIVE,PENDING");
  ASSERT_EQ(active.status, 200);
  ASSERT_EQ(active.json["trials"].size(), 1u);
  EXPECT_EQ(active.json["trials"][0]["state"], "ACTIVE");
}

// /columns: the same trials as /trials, one array per field, the values of
// each trial at the same index; the same cursor.
TEST_F(HttpApiTest, ColumnsHoldTheTrialsOfTrialsAsArraysAfterTheSameCursor) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("cols", 100, nullptr,
              "parameters { name: 'opt' categorical { values: 'adam' values: 'sgd' } }"
              " parameters { name: 'units' integer { min: 1 max: 64 } }");
  CreateStudy("other", 100);
  for (int i = 0; i < 5; ++i) {
    RunTrial("cols", 0.1 * i, /*steps=*/2 + i % 2);
    RunTrial("other", 0.5, 1);  // Interleaved ids of another study.
  }
  const int64_t failed = TakeTrial("cols");
  Diverge(failed, "loss is NaN");
  TakeTrial("cols");  // ACTIVE: no objective, no end.

  Reply trials = Get("/api/v1/studies/cols/trials?limit=100");
  ASSERT_EQ(trials.status, 200) << trials.body;
  const Json& want = trials.json["trials"];
  ASSERT_EQ(want.size(), 7u);
  Reply reply = Get("/api/v1/studies/cols/columns");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const Json& c = reply.json;
  EXPECT_EQ(c["count"], 7);
  EXPECT_EQ(c["total"], 7);
  EXPECT_FALSE(c["more"].get<bool>());
  EXPECT_EQ(c["next_after"], Ids(want).back());
  for (const char* column : {"id", "state", "objective", "final_step", "worker",
                             "start_ms", "end_ms", "failure", "reason"})
    ASSERT_EQ(c[column].size(), 7u) << column << ": " << reply.body;
  for (const char* name : {"x", "opt", "units"})
    ASSERT_EQ(c["parameters"][name].size(), 7u) << name << ": " << reply.body;
  for (size_t i = 0; i < want.size(); ++i) {
    const Json& t = want[i];
    SCOPED_TRACE(t.dump());
    EXPECT_EQ(c["id"][i], std::stoll(t["id"].get<std::string>()));
    EXPECT_EQ(c["state_names"][c["state"][i].get<int>()], t["state"]);
    if (t.contains("objective_value")) {
      EXPECT_DOUBLE_EQ(c["objective"][i].get<double>(),
                       t["objective_value"].get<double>());
      EXPECT_EQ(c["final_step"][i],
                std::stoll(t["final_measurement"].value("step", "0")));
    } else {
      EXPECT_TRUE(c["objective"][i].is_null());
    }
    EXPECT_EQ(c["workers"][c["worker"][i].get<int>()], t["worker_id"]);
    EXPECT_TRUE(c["start_ms"][i].is_number_integer());
    EXPECT_EQ(c["end_ms"][i].is_null(), !t.contains("end_time"));
    EXPECT_EQ(c["failure_names"][c["failure"][i].get<int>()],
              t.value("failure_kind", "FAILURE_KIND_UNSPECIFIED"));
    EXPECT_EQ(c["reason"][i], t.value("failure_reason", ""));
    const Json& p = t["parameters"];
    EXPECT_DOUBLE_EQ(c["parameters"]["x"][i].get<double>(),
                     p["x"]["double_value"].get<double>());
    EXPECT_EQ(c["parameters"]["opt"][i], p["opt"]["string_value"]);
    EXPECT_EQ(c["parameters"]["units"][i],
              std::stoll(p["units"].value("int_value", "0")));
  }
  // Times agree with /trials' RFC 3339 ones: the failed trial ended after
  // it started, within the test's run.
  const size_t f = 5;
  ASSERT_EQ(c["id"][f], failed);
  EXPECT_EQ(c["failure_names"][c["failure"][f].get<int>()], "DIVERGED");
  EXPECT_EQ(c["reason"][f], "loss is NaN");
  EXPECT_GE(c["end_ms"][f].get<int64_t>(), c["start_ms"][f].get<int64_t>());
  EXPECT_LT(std::abs(c["start_ms"][f].get<int64_t>() / 1000 - std::time(nullptr)), 300);

  // Pages of 3 after a cursor: each resumes after the last id it got.
  std::vector<int64_t> seen;
  int64_t after = 0;
  for (int page = 0; page < 5; ++page) {
    Reply part = Get(absl::StrCat("/api/v1/studies/cols/columns?limit=3&after=", after));
    ASSERT_EQ(part.status, 200) << part.body;
    EXPECT_LE(part.json["count"].get<int>(), 3);
    EXPECT_EQ(part.json["total"], 7);
    for (const Json& id : part.json["id"]) seen.push_back(id.get<int64_t>());
    EXPECT_EQ(part.json["parameters"]["opt"].size(), part.json["id"].size());
    after = part.json["next_after"].get<int64_t>();
    if (!part.json["more"].get<bool>()) break;
  }
  EXPECT_EQ(seen, Ids(want));
  Reply idle = Get(absl::StrCat("/api/v1/studies/cols/columns?after=", after));
  ASSERT_EQ(idle.status, 200) << idle.body;
  EXPECT_EQ(idle.json["count"], 0);
  EXPECT_TRUE(idle.json["id"].empty());
  EXPECT_EQ(idle.json["next_after"], after);
  EXPECT_FALSE(idle.json["more"].get<bool>());

  Reply active = Get("/api/v1/studies/cols/columns?state=ACTIVE");
  ASSERT_EQ(active.status, 200) << active.body;
  EXPECT_EQ(active.json["count"], 1);
  EXPECT_EQ(active.json["state_names"][active.json["state"][0].get<int>()], "ACTIVE");

  // Bad parameters name themselves; an unknown study is a 404.
  Reply zero = Get("/api/v1/studies/cols/columns?limit=0");
  EXPECT_EQ(zero.status, 400);
  EXPECT_THAT(zero.body, HasSubstr("limit: \\\"0\\\" is not an integer in [1, 100000]"));
  Reply huge = Get("/api/v1/studies/cols/columns?limit=100001");
  EXPECT_EQ(huge.status, 400) << huge.body;
  Reply unknown = Get("/api/v1/studies/cols/columns?measurements=true");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_THAT(unknown.body, HasSubstr("unknown query parameter \\\"measurements\\\""));
  EXPECT_EQ(Get("/api/v1/studies/nope/columns").status, 404);
}

// /columns?format=binary, decoded: the header's JSON and each column as
// doubles (whatever its type), by name ("p0", ... for parameters).
struct BinaryColumns {
  Json header;
  std::map<std::string, std::vector<double>> columns;
};
BinaryColumns DecodeBinaryColumns(const std::string& body) {
  BinaryColumns out;
  uint32_t length = 0;
  for (int b = 0; b < 4; ++b)
    length |= static_cast<uint32_t>(static_cast<uint8_t>(body[b])) << (8 * b);
  out.header = Json::parse(body.substr(4, length));
  const size_t n = out.header["count"].get<size_t>();
  for (const Json& column : out.header["columns"]) {
    const std::string type = column["type"];
    const size_t offset = column["offset"].get<size_t>();
    EXPECT_EQ(offset % 8, 0u) << column.dump();
    std::vector<double>& values = out.columns[column["name"]];
    const size_t size = type == "f64" ? 8 : type == "i32" ? 4 : 1;
    EXPECT_LE(offset + size * n, body.size()) << column.dump();
    if (offset + size * n > body.size()) continue;
    for (size_t i = 0; i < n; ++i) {
      if (type == "f64") {
        double v;
        std::memcpy(&v, body.data() + offset + 8 * i, 8);
        values.push_back(v);
      } else if (type == "i32") {
        // An offset from "base" (0 when absent); "none" stands for NaN.
        int32_t v;
        std::memcpy(&v, body.data() + offset + 4 * i, 4);
        const bool none = column.contains("none") && v == column["none"].get<int32_t>();
        values.push_back(none ? std::nan("")
                              : column.value("base", 0.0) + static_cast<double>(v));
      } else {
        EXPECT_EQ(type, "u8");
        values.push_back(static_cast<uint8_t>(body[offset + i]));
      }
    }
  }
  return out;
}

// Expects the binary answer to hold what the JSON one does, value for value.
void ExpectSameColumns(const Json& c, const BinaryColumns& b) {
  const Json& h = b.header;
  for (const char* field : {"count", "total", "next_after", "more", "state_names",
                            "failure_names", "workers"})
    EXPECT_EQ(h[field], c[field]) << field;
  const size_t n = c["id"].size();
  auto number = [](const Json& v) {
    return v.is_null() ? std::nan("") : v.get<double>();
  };
  auto same = [](double a, double b) {
    return (std::isnan(a) && std::isnan(b)) || a == b;
  };
  std::map<size_t, std::string> reasons;
  for (size_t r = 0; r < h["reasons"]["row"].size(); ++r)
    reasons[h["reasons"]["row"][r].get<size_t>()] = h["reasons"]["text"][r];
  for (size_t i = 0; i < n; ++i) {
    SCOPED_TRACE(absl::StrCat("row ", i));
    EXPECT_EQ(b.columns.at("id")[i], c["id"][i].get<double>());
    EXPECT_EQ(b.columns.at("state")[i], c["state"][i].get<double>());
    EXPECT_EQ(b.columns.at("failure")[i], c["failure"][i].get<double>());
    EXPECT_EQ(b.columns.at("worker")[i], c["worker"][i].get<double>());
    for (const char* name : {"objective", "final_step", "start_ms", "end_ms"})
      EXPECT_TRUE(same(b.columns.at(name)[i], number(c[name][i])))
          << name << ": " << b.columns.at(name)[i] << " vs " << c[name][i];
    EXPECT_EQ(reasons.count(i) ? reasons[i] : "", c["reason"][i].get<std::string>());
    for (const Json& p : h["parameters"]) {
      const double v = b.columns.at(p["column"].get<std::string>())[i];
      const Json& want = c["parameters"][p["name"].get<std::string>()][i];
      if (p.contains("categories")) {
        ASSERT_FALSE(std::isnan(v)) << p.dump();
        EXPECT_EQ(p["categories"][static_cast<size_t>(v)], want);
      } else {
        EXPECT_TRUE(same(v, number(want))) << p["name"] << ": " << v << " vs " << want;
      }
    }
  }
}

// The binary answer holds the JSON one's values; both come partly from the
// cache of finished trials, which must never hold a trial that was still
// open: the one ACTIVE in the middle shows its end once it finishes.
TEST_F(HttpApiTest, BinaryColumnsHoldTheJsonColumnsAndTheCacheKeepsOnlyFinishedTrials) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("bin", 100, nullptr,
              "parameters { name: 'opt' categorical { values: 'adam' values: 'sgd' } }"
              " parameters { name: 'units' integer { min: 1 max: 64 } }");
  for (int i = 0; i < 4; ++i) RunTrial("bin", 0.1 * i, 2);
  const int64_t open = TakeTrial("bin");  // ACTIVE while the cache fills.
  for (int i = 0; i < 3; ++i) RunTrial("bin", 0.5 + 0.1 * i, 1);
  const int64_t failed = TakeTrial("bin");
  Diverge(failed, "loss is NaN");

  auto check = [&](const std::string& query) {
    SCOPED_TRACE(query);
    const Reply json = Get("/api/v1/studies/bin/columns" + query);
    const Reply binary = Get("/api/v1/studies/bin/columns" + query +
                             (query.empty() ? "?" : "&") + "format=binary");
    EXPECT_EQ(json.status, 200) << json.body;
    EXPECT_EQ(binary.status, 200) << binary.body;
    const BinaryColumns decoded = DecodeBinaryColumns(binary.body);
    ExpectSameColumns(json.json, decoded);
    return json.json;
  };
  // Twice: the second answer comes from the cache where it can.
  for (int round = 0; round < 2; ++round) {
    const Json c = check("");
    ASSERT_EQ(c["count"], 9);
    EXPECT_EQ(c["state_names"][c["state"][4].get<int>()], "ACTIVE");
    EXPECT_TRUE(c["objective"][4].is_null());
    EXPECT_EQ(c["reason"][8], "loss is NaN");
  }
  // Pages of 2 after a cursor, binary: the same ids.
  std::vector<double> ids;
  int64_t after = 0;
  for (int page = 0; page < 6; ++page) {
    const Reply part = Get(
        absl::StrCat("/api/v1/studies/bin/columns?format=binary&limit=2&after=", after));
    ASSERT_EQ(part.status, 200);
    const BinaryColumns b = DecodeBinaryColumns(part.body);
    for (double id : b.columns.at("id")) ids.push_back(id);
    after = b.header["next_after"].get<int64_t>();
    if (!b.header["more"].get<bool>()) break;
  }
  EXPECT_EQ(ids.size(), 9u);

  // The open trial finishes: both answers show it (it was never cached).
  Report(open, 1);
  Complete(open, 0.99);
  const Json done = check("");
  EXPECT_EQ(done["state_names"][done["state"][4].get<int>()], "SUCCEEDED");
  EXPECT_DOUBLE_EQ(done["objective"][4].get<double>(), 0.99);
  check("?after=2&limit=3");

  // Gzip'd for a browser, but not to a loopback peer (this test): doubles
  // shrink little, and compressing costs more than loopback's bytes.
  for (const char* format : {"json", "binary"}) {
    httplib::Client client("127.0.0.1", http_port_);
    client.set_decompress(false);
    httplib::Result result =
        client.Get(absl::StrCat("/api/v1/studies/bin/columns?format=", format),
                   {{"Accept-Encoding", "gzip, deflate, br"}});
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->get_header_value("Content-Encoding"),
              std::string(format) == "json" ? "gzip" : "")
        << format;
    EXPECT_EQ(result->get_header_value("Content-Type"), std::string(format) == "json"
                                                            ? "application/json"
                                                            : "application/octet-stream");
  }

  const Reply bad = Get("/api/v1/studies/bin/columns?format=xml");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("format: \\\"xml\\\" is not json or binary"));
}

// Answers are gzip'd for a client that takes gzip (never brotli: a
// browser's "gzip, deflate, br" gets gzip), the same JSON once inflated.
TEST_F(HttpApiTest, AClientThatTakesGzipGetsGzipNeverBrotli) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("zip", 100);
  for (int i = 0; i < 20; ++i) RunTrial("zip", 0.01 * i, 1);
  const Reply plain = Get("/api/v1/studies/zip/columns");
  ASSERT_EQ(plain.status, 200) << plain.body;
  for (const std::string path :
       {"/api/v1/studies/zip/columns", "/api/v1/studies/zip/trials", "/metrics"}) {
    for (const char* accepts : {"gzip, deflate, br", "br", "identity"}) {
      SCOPED_TRACE(absl::StrCat(path, " with Accept-Encoding: ", accepts));
      httplib::Client client("127.0.0.1", http_port_);
      client.set_decompress(true);
      httplib::Result result = client.Get(path, {{"Accept-Encoding", accepts}});
      ASSERT_TRUE(result) << httplib::to_string(result.error());
      ASSERT_EQ(result->status, 200);
      EXPECT_EQ(result->get_header_value("Content-Encoding"),
                std::string(accepts) == "gzip, deflate, br" ? "gzip" : "");
      if (path == "/api/v1/studies/zip/columns") EXPECT_EQ(result->body, plain.body);
      if (path != "/metrics") EXPECT_FALSE(Json::parse(result->body).empty());
    }
  }
}

// A browser keeps up to 6 connections to a host open between requests,
// and each open connection holds one of the server's threads while it
// waits for its next request (5 s). With a few tabs open, a new request
// must still be answered at once, not after an idle connection times out
// (with 4 threads, a study page's 7th request waited up to 5 s).
TEST_F(HttpApiTest, IdleKeepAliveConnectionsDoNotDelayANewRequest) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  std::vector<std::unique_ptr<httplib::Client>> idle;
  for (int i = 0; i < 12; ++i) {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", http_port_);
    client->set_keep_alive(true);
    httplib::Result result = client->Get("/api/v1");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    ASSERT_EQ(result->status, 200);
    idle.push_back(std::move(client));
  }
  const auto start = std::chrono::steady_clock::now();
  const Reply reply = Get("/api/v1/studies");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(reply.status, 200);
  EXPECT_LT(seconds, 2.5) << "a new request waited for an idle connection's thread";
}

// /columns and /trials answers made only of finished trials are kept and
// sent again (a finished trial never changes), but never once a trial is
// added or changes state: each answer below is the study as it is then.
TEST_F(HttpApiTest, AnswersOfFinishedTrialsAreKeptOnlyWhileNoTrialIsAddedOrChanges) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("memo", 100);
  for (int i = 0; i < 3; ++i) RunTrial("memo", 0.1 * i, 2);
  const std::string binary = "/api/v1/studies/memo/columns?format=binary&limit=100";
  const Reply first = Get(binary);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(Get(binary).body, first.body);
  auto states = [&]() {
    std::vector<std::string> out;
    const Reply reply = Get("/api/v1/studies/memo/trials?measurements=true");
    for (const Json& t : reply.json["trials"])
      out.push_back(absl::StrCat(t.value("state", ""), "/", t["measurements"].size()));
    return out;
  };
  auto columns = [&]() {
    return Get("/api/v1/studies/memo/columns?limit=100")
        .json["state"]
        .get<std::vector<int>>();
  };
  EXPECT_EQ(states(), std::vector<std::string>(3, "SUCCEEDED/2"));
  EXPECT_EQ(columns(), std::vector<int>(3, 3));

  const int64_t id = TakeTrial("memo");
  ASSERT_GT(id, 0);
  EXPECT_NE(Get(binary).body, first.body);
  EXPECT_EQ(states().back().rfind("ACTIVE/", 0), 0u);
  EXPECT_EQ(columns(), (std::vector<int>{3, 3, 3, 2}));
  Report(id, 3);
  EXPECT_EQ(states().back(), "ACTIVE/3");
  Complete(id, 0.5);
  EXPECT_EQ(states().back(), "SUCCEEDED/3");
  EXPECT_EQ(columns(), std::vector<int>(4, 3));
}

// last=N: the latest N trials, as after= the right cursor would give them.
TEST_F(HttpApiTest, LastGivesTheLatestTrials) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("tail", 100);
  for (int i = 0; i < 5; ++i) RunTrial("tail", 0.1 * i, 1);
  const Reply all = Get("/api/v1/studies/tail/trials?measurements=true");
  ASSERT_EQ(all.status, 200);
  const std::vector<int64_t> ids = Ids(all.json["trials"]);
  ASSERT_EQ(ids.size(), 5u);
  for (int round = 0; round < 2; ++round) {  // Then as remembered.
    const Reply last = Get("/api/v1/studies/tail/trials?last=2&measurements=true");
    ASSERT_EQ(last.status, 200) << last.body;
    EXPECT_EQ(Ids(last.json["trials"]), (std::vector<int64_t>{ids[3], ids[4]}));
    EXPECT_EQ(last.json["trials"][0]["measurements"].size(), 1u);
    EXPECT_EQ(last.json["more"], false);
  }
  EXPECT_EQ(Ids(Get("/api/v1/studies/tail/trials?last=10").json["trials"]), ids);
  const int64_t open = TakeTrial("tail");
  EXPECT_EQ(Ids(Get("/api/v1/studies/tail/trials?last=2").json["trials"]),
            (std::vector<int64_t>{ids[4], open}));
  const Reply both = Get("/api/v1/studies/tail/trials?last=2&after=1");
  EXPECT_EQ(both.status, 400);
  EXPECT_THAT(both.body, HasSubstr("last: not with after or limit"));
  EXPECT_EQ(Get("/api/v1/studies/tail/trials?last=0").status, 400);
}

// A coordinator started on a database with studies reads them for the
// dashboard at once (JsonApi::Warm), and answers from what it read.
TEST_F(HttpApiTest, AStartedCoordinatorReadsItsStudiesForTheDashboard) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("again", 100);
  for (int i = 0; i < 3; ++i) RunTrial("again", 0.1 * i, 2);
  coordinator_.reset();
  std::remove(dir_.File("http.port").c_str());
  std::remove(dir_.File("grpc.port").c_str());
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  bool read = false;
  for (int i = 0; i < 200 && !read; ++i) {
    read = coordinator_->Stderr().find("dashboard: study again read (3 trials)") !=
           std::string::npos;
    if (!read) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(read) << coordinator_->Stderr();
  const Reply columns = Get("/api/v1/studies/again/columns?limit=100");
  ASSERT_EQ(columns.status, 200) << columns.body;
  EXPECT_EQ(columns.json["count"], 3);
  EXPECT_EQ(columns.json["state"].get<std::vector<int>>(), std::vector<int>(3, 3));
}

TEST_F(HttpApiTest, OneTrialComesWithItsLearningCurve) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("curve");
  const int64_t id = RunTrial("curve", 0.4, /*steps=*/4);
  Reply reply = Get(absl::StrCat("/api/v1/trials/", id));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json["study"], "curve");
  EXPECT_EQ(reply.json["state"], "SUCCEEDED");
  ASSERT_GE(reply.json["measurements"].size(), 4u) << reply.body;
  EXPECT_EQ(reply.json["measurements"][1]["step"], "2");
  EXPECT_DOUBLE_EQ(reply.json["measurements"][1]["metrics"]["score"].get<double>(), 0.2);
  EXPECT_TRUE(reply.json["parameters"].contains("x"));
}

TEST_F(HttpApiTest, OneTrialListsItsCheckpoints) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("saved");
  const int64_t id = TakeTrial("saved");
  Report(id, 2);
  // Nothing saved yet: an empty list, not a missing field.
  Reply none = Get(absl::StrCat("/api/v1/trials/", id));
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_TRUE(none.json["checkpoints"].is_array()) << none.body;
  EXPECT_TRUE(none.json["checkpoints"].empty()) << none.body;

  const std::string bytes = "the weights at step 2";
  caviar::v1::UploadCheckpointRequest chunk;
  chunk.set_trial_id(id);
  chunk.set_worker_id(leases_[id].first);
  chunk.set_attempt(leases_[id].second);
  chunk.set_step(2);
  chunk.set_total_bytes(bytes.size());
  chunk.set_digest(Sha256Digest(bytes));
  chunk.set_data(bytes);
  caviar::v1::UploadCheckpointResponse uploaded;
  grpc::ClientContext context;
  auto upload = workers_->UploadCheckpoint(&context, &uploaded);
  ASSERT_TRUE(upload->Write(chunk));
  upload->WritesDone();
  grpc::Status status = upload->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();

  Reply reply = Get(absl::StrCat("/api/v1/trials/", id));
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_EQ(reply.json["checkpoints"].size(), 1u) << reply.body;
  const Json& saved = reply.json["checkpoints"][0];
  EXPECT_EQ(saved["step"], "2");
  EXPECT_EQ(saved["size_bytes"], std::to_string(bytes.size()));
  EXPECT_EQ(saved["digest"], Sha256Digest(bytes));
}

TEST_F(HttpApiTest, ChangesBringNewTrialsOpenOnesAndWatchedOnesThatFinished) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("live");
  const int64_t done = RunTrial("live", 0.3);
  const int64_t running = TakeTrial("live");
  Report(running, 2);

  Reply first = Get("/api/v1/studies/live/changes?measurements=true");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json["study"]["spec"]["name"], "live");
  EXPECT_EQ(Ids(first.json["trials"]), (std::vector<int64_t>{done, running}));
  const int64_t cursor = first.json["next_after"].get<int64_t>();
  EXPECT_EQ(cursor, running);

  // The running trial reports and finishes; a new one starts.
  Report(running, 3);
  Complete(running, 0.8);
  const int64_t next = TakeTrial("live");
  Reply second = Get(
      absl::StrCat("/api/v1/studies/live/changes?after=", cursor, "&watch=", running));
  ASSERT_EQ(second.status, 200) << second.body;
  std::map<int64_t, std::string> states;
  for (const Json& trial : second.json["trials"])
    states[std::stoll(trial["id"].get<std::string>())] = trial["state"];
  EXPECT_EQ(states,
            (std::map<int64_t, std::string>{{running, "SUCCEEDED"}, {next, "ACTIVE"}}));
  EXPECT_EQ(second.json["study"]["succeeded_trials"], 2);

  // An open trial the client already has comes back without watching it.
  Reply third = Get(absl::StrCat("/api/v1/studies/live/changes?after=", next));
  EXPECT_EQ(Ids(third.json["trials"]), std::vector<int64_t>{next});
}

TEST_F(HttpApiTest, BadRequestsGetAPreciseErrorAndTheRightStatus) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("s");
  const int64_t id = RunTrial("s", 0.1);
  struct Case {
    std::string path;
    int status;
    std::string message;
  };
  const Case cases[] = {
      {"/api/v1/trials/abc", 400,
       "trial id: \"abc\" is not an integer in [1, 9223372036854775807]"},
      {"/api/v1/trials/0", 400, "trial id: \"0\" is not an integer"},
      {"/api/v1/trials/-3", 400, "trial id: \"-3\" is not an integer"},
      {"/api/v1/trials/99999999999999999999", 400, "is not an integer"},
      {"/api/v1/trials/999999", 404, "999999"},
      {"/api/v1/studies/nope", 404, "study \"nope\" not found"},
      {"/api/v1/studies/nope/trials", 404, "study \"nope\" not found"},
      {"/api/v1/studies/s/trials?limit=0", 400,
       "limit: \"0\" is not an integer in [1, 10000]"},
      {"/api/v1/studies/s/trials?limit=10001", 400, "limit: \"10001\""},
      {"/api/v1/studies/s/trials?after=x", 400, "after: \"x\" is not an integer"},
      {"/api/v1/studies/s/trials?after=1&after=2", 400, "after: given more than once"},
      {"/api/v1/studies/s/trials?state=RUNNING", 400,
       "state: unknown trial state \"RUNNING\" (one of PENDING, ACTIVE, SUCCEEDED, "
       "FAILED, STOPPED)"},
      {"/api/v1/studies/s/trials?measurements=yes", 400,
       "measurements: \"yes\" is not a boolean"},
      {"/api/v1/studies/s/trials?sort=id", 400,
       "unknown query parameter \"sort\" (known: after, last, limit, state, "
       "measurements)"},
      {"/api/v1/studies?x=1", 400,
       "unknown query parameter \"x\": this endpoint takes none"},
      {"/api/v1/studies/s/changes?watch=1,x", 400, "watch: \"x\" is not an integer"},
      {"/api/v1/studies/s/changes?watch=424242", 400, "watch: trial 424242 not found"},
      {"/api/v1/studies/s/best?top=0", 400, "top: \"0\""},
      {"/api/v1/nothing", 404, "no such endpoint: /api/v1/nothing"},
  };
  for (const Case& c : cases) {
    Reply reply = Get(c.path);
    EXPECT_EQ(reply.status, c.status) << c.path << ": " << reply.body;
    ASSERT_TRUE(reply.json.contains("error")) << c.path << ": " << reply.body;
    EXPECT_THAT(reply.json["error"]["message"].get<std::string>(), HasSubstr(c.message))
        << c.path;
  }
  // Nothing changed: the study still has its one trial.
  EXPECT_EQ(Get("/api/v1/studies/s").json["succeeded_trials"], 1);
  EXPECT_EQ(Get(absl::StrCat("/api/v1/trials/", id)).status, 200);
  // The port is read-only.
  httplib::Client client("127.0.0.1", http_port_);
  auto post = client.Post("/api/v1/studies", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_THAT(post->body, HasSubstr("read-only"));
}

TEST_F(HttpApiTest, WithTokensEveryRequestNeedsAViewerOrAdminTokenAndRefusalsAreAudited) {
  ASSERT_TRUE(StartCoordinator({"--tokens-file", TokensFile()})) << startup_error_;
  CreateStudy("private", 10, kAdminToken);
  for (const char* path : {"/api/v1/studies", "/api/v1/studies/private", "/metrics",
                           "/api/v1/trials/1", "/api/v1/nothing"}) {
    Reply none = Get(path);
    EXPECT_EQ(none.status, 401) << path;
    EXPECT_THAT(none.body, HasSubstr("needs a bearer token")) << path;
    EXPECT_THAT(none.body, ::testing::Not(HasSubstr("private"))) << path;
    EXPECT_EQ(Get(path, "not-a-token-of-this-coordinator").status, 401) << path;
    EXPECT_EQ(Get(path, kWorkerToken).status, 403) << path;
  }
  EXPECT_EQ(Get("/api/v1/studies", kViewerToken).status, 200);
  EXPECT_EQ(Get("/api/v1/studies/private", kAdminToken).status, 200);
  EXPECT_EQ(Get("/metrics", kViewerToken).status, 200);
  Reply worker = Get("/api/v1/studies", kWorkerToken);
  EXPECT_THAT(worker.body, HasSubstr("credential \\\"pool\\\" is a worker"));
  // The audit log has the refusals, with the peer and the credential.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string log = coordinator_->Stderr();
  EXPECT_THAT(log, HasSubstr("refused GET /api/v1/studies peer=ipv4:127.0.0.1:"));
  EXPECT_THAT(log, HasSubstr("credential=- code=UNAUTHENTICATED"));
  EXPECT_THAT(log, HasSubstr("credential=pool code=PERMISSION_DENIED"));
}

TEST_F(HttpApiTest, OffLoopbackTheHttpPortNeedsTokensLikeGrpc) {
  // No tokens, a non-loopback address: refused before anything starts.
  EXPECT_FALSE(StartCoordinator({}, "0.0.0.0:0"));
  EXPECT_THAT(startup_error_,
              HasSubstr("refusing to serve HTTP on 0.0.0.0:0 without tokens"));
  EXPECT_NE(coordinator_->Wait(), 0);
  // With tokens it serves, and a request without one is refused (sent to
  // 127.0.0.1, which the wildcard address covers).
  ASSERT_TRUE(StartCoordinator({"--tokens-file", TokensFile()}, "0.0.0.0:0"))
      << startup_error_;
  EXPECT_EQ(Get("/api/v1/studies").status, 401);
  EXPECT_EQ(Get("/api/v1/studies", kViewerToken).status, 200);
}

TEST_F(HttpApiTest, MetricsCountRpcsTrialsLeasesAndCommits) {
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("metrics-1", 10, nullptr, "trial_policy { lease_seconds: 1 }");
  RunTrial("metrics-1", 0.5);
  RunTrial("metrics-1", 0.6);
  TakeTrial("metrics-1");  // Never reported: its lease runs out.
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  Reply reply = Get("/metrics");
  ASSERT_EQ(reply.status, 200);
  const std::string& text = reply.body;
  EXPECT_THAT(text,
              HasSubstr("caviar_rpc_requests_total{service=\"caviar.v1.WorkerService\","
                        "method=\"SuggestTrial\",code=\"OK\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("caviar_rpc_requests_total{service=\"caviar.v1.StudyService\","
                        "method=\"CreateStudy\",code=\"OK\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("caviar_rpc_duration_seconds_count{service=\"caviar.v1."
                              "WorkerService\",method=\"ReportProgress\"} 6\n"));
  // A study name is a label value, escaped.
  EXPECT_THAT(text,
              HasSubstr("caviar_trials{study=\"metrics-1\",state=\"SUCCEEDED\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("caviar_leases_expired_total 1\n"));
  EXPECT_THAT(text, HasSubstr("caviar_store_commit_duration_seconds_count "));
  EXPECT_THAT(text, HasSubstr("caviar_studies{state=\"STUDY_ACTIVE\"} 1\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("caviar_database_bytes [1-9][0-9]+\n"));
  EXPECT_THAT(text,
              ::testing::ContainsRegex("process_resident_memory_bytes [1-9][0-9]+\n"));
}

}  // namespace
}  // namespace caviar::testing

namespace caviar::testing {
namespace {

TEST_F(HttpApiTest, WithTheGrpcCertificateTheHttpPortServesHttpsOnly) {
  const std::string cert = dir_.File("cert.pem"), key = dir_.File("key.pem");
  CommandResult openssl = RunCommand(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days",
       "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"},
      dir_.File("openssl"));
  ASSERT_EQ(openssl.exit_code, 0) << openssl.err;
  ASSERT_TRUE(StartCoordinator({"--tls-cert", cert, "--tls-key", key})) << startup_error_;

  httplib::SSLClient https("127.0.0.1", http_port_);
  https.set_ca_cert_path(cert.c_str());
  https.enable_server_certificate_verification(true);
  auto reply = https.Get("/api/v1/studies");
  ASSERT_TRUE(reply) << httplib::to_string(reply.error());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "{\"studies\":[]}");

  httplib::Client plain("127.0.0.1", http_port_);
  plain.set_read_timeout(std::chrono::seconds(2));
  auto refused = plain.Get("/api/v1/studies");
  EXPECT_TRUE(!refused || refused->status != 200);
}

}  // namespace
}  // namespace caviar::testing
