#include "tests/storage/store_conformance.h"

#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "gmock/gmock.h"

namespace caviar::storage {
namespace {

using ::caviar::v1::Measurement;
using ::caviar::v1::Study;
using ::caviar::v1::Trial;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// A trial as LoadTrials returns it: with the given measurements.
Trial WithMeasurements(Trial trial, const std::vector<Measurement>& curve) {
  trial.clear_measurements();
  for (const Measurement& m : curve) *trial.add_measurements() = m;
  return trial;
}

absl::Status PutTrial(Store& store, const Trial& trial) {
  WriteBatch batch;
  batch.PutTrial(trial);
  return store.Commit(batch);
}

absl::Status AddMeasurement(Store& store, int64_t trial_id, const Measurement& m) {
  WriteBatch batch;
  batch.AddMeasurement(trial_id, m);
  return store.Commit(batch);
}

}  // namespace

std::unique_ptr<Store> StoreConformanceTest::Open() {
  absl::StatusOr<std::unique_ptr<Store>> store = GetParam().open(path_);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(store).value() : nullptr;
}

namespace {

// GoogleTest allows a suite defined in a library to be instantiated
// elsewhere (or not at all in some binaries).
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreConformanceTest);

TEST_P(StoreConformanceTest, CreatedStudiesLoadInCreationOrder) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Study zeta = MakeStudy("zeta"), alpha = MakeStudy("alpha");
  ASSERT_TRUE(store->CreateStudy(zeta).ok());
  ASSERT_TRUE(store->CreateStudy(alpha).ok());
  auto studies = store->LoadStudies();
  ASSERT_TRUE(studies.ok()) << studies.status();
  EXPECT_THAT(*studies, ElementsAre(EqualsProto(zeta), EqualsProto(alpha)));
}

TEST_P(StoreConformanceTest, EmptyStoreLoadsNothing) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto studies = store->LoadStudies();
  ASSERT_TRUE(studies.ok()) << studies.status();
  EXPECT_THAT(*studies, IsEmpty());
  auto trials = store->LoadTrials("nobody");
  ASSERT_TRUE(trials.ok()) << trials.status();
  EXPECT_THAT(*trials, IsEmpty());
  auto max_id = store->MaxTrialId();
  ASSERT_TRUE(max_id.ok()) << max_id.status();
  EXPECT_EQ(*max_id, 0);
}

TEST_P(StoreConformanceTest, DuplicateStudyIsAlreadyExistsAndChangesNothing) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Study first = MakeStudy("mnist");
  ASSERT_TRUE(store->CreateStudy(first).ok());
  Study second = MakeStudy("mnist");
  second.mutable_spec()->set_description("another");
  absl::Status status = store->CreateStudy(second);
  EXPECT_TRUE(absl::IsAlreadyExists(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("mnist"));
  auto studies = store->LoadStudies();
  ASSERT_TRUE(studies.ok()) << studies.status();
  EXPECT_THAT(*studies, ElementsAre(EqualsProto(first)));
}

TEST_P(StoreConformanceTest, StudyWithoutNameIsInvalidArgument) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  absl::Status status = store->CreateStudy(MakeStudy(""));
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("spec.name"));
}

TEST_P(StoreConformanceTest, UpdateStudyReplacesIt) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStudy(MakeStudy("a")).ok());
  Study updated = MakeStudy("a");
  updated.set_state(caviar::v1::STUDY_COMPLETED);
  updated.set_succeeded_trials(12);
  updated.add_regions()->set_round(1);
  WriteBatch batch;
  batch.UpdateStudy(updated);
  ASSERT_TRUE(store->Commit(batch).ok());
  auto studies = store->LoadStudies();
  ASSERT_TRUE(studies.ok()) << studies.status();
  EXPECT_THAT(*studies, ElementsAre(EqualsProto(updated)));
}

TEST_P(StoreConformanceTest, UpdateUnknownStudyIsNotFound) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.UpdateStudy(MakeStudy("ghost"));
  absl::Status status = store->Commit(batch);
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("ghost"));
  auto studies = store->LoadStudies();
  ASSERT_TRUE(studies.ok());
  EXPECT_THAT(*studies, IsEmpty());
}

TEST_P(StoreConformanceTest, TrialOfUnknownStudyIsNotFound) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  absl::Status status = PutTrial(*store, MakeTrial(1, "ghost", caviar::v1::PENDING));
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("ghost"));
  auto max_id = store->MaxTrialId();
  ASSERT_TRUE(max_id.ok());
  EXPECT_EQ(*max_id, 0);
}

TEST_P(StoreConformanceTest, PutTrialInsertsThenReplaces) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStudy(MakeStudy("s")).ok());
  Trial trial = MakeTrial(1, "s", caviar::v1::ACTIVE);
  ASSERT_TRUE(PutTrial(*store, trial).ok());
  Measurement m1 = MakeMeasurement(1, 0.5);
  ASSERT_TRUE(AddMeasurement(*store, 1, m1).ok());

  Trial done = trial;
  done.set_state(caviar::v1::SUCCEEDED);
  done.set_objective_value(0.5);
  *done.mutable_final_measurement() = m1;
  done.set_worker_id("");
  ASSERT_TRUE(PutTrial(*store, done).ok());

  auto trials = store->LoadTrials("s");
  ASSERT_TRUE(trials.ok()) << trials.status();
  // Replacing the row keeps the learning curve appended before.
  EXPECT_THAT(*trials, ElementsAre(EqualsProto(WithMeasurements(done, {m1}))));
}

TEST_P(StoreConformanceTest, PutTrialIgnoresItsMeasurementsField) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStudy(MakeStudy("s")).ok());
  Measurement appended = MakeMeasurement(1, 0.25);
  Trial trial = MakeTrial(4, "s", caviar::v1::ACTIVE);
  ASSERT_TRUE(PutTrial(*store, trial).ok());
  ASSERT_TRUE(AddMeasurement(*store, 4, appended).ok());
  // The coordinator writes its in-memory trial, curve included.
  Trial with_curve = WithMeasurements(trial, {appended, MakeMeasurement(9, 1)});
  with_curve.set_attempt(2);
  ASSERT_TRUE(PutTrial(*store, with_curve).ok());
  auto trials = store->LoadTrials("s");
  ASSERT_TRUE(trials.ok()) << trials.status();
  EXPECT_THAT(*trials,
              ElementsAre(EqualsProto(WithMeasurements(with_curve, {appended}))));
}

TEST_P(StoreConformanceTest, TrialIdOfAnotherStudyIsAlreadyExists) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStudy(MakeStudy("a")).ok());
  ASSERT_TRUE(store->CreateStudy(MakeStudy("b")).ok());
  Trial in_a = MakeTrial(7, "a", caviar::v1::ACTIVE);
  ASSERT_TRUE(PutTrial(*store, in_a).ok());
  absl::Status status = PutTrial(*store, MakeTrial(7, "b", caviar::v1::ACTIVE));
  EXPECT_TRUE(absl::IsAlreadyExists(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("7"));
  auto a = store->LoadTrials("a");
  auto b = store->LoadTrials("b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_THAT(*a, ElementsAre(EqualsProto(in_a)));
  EXPECT_THAT(*b, IsEmpty());
}

TEST_P(StoreConformanceTest, MeasurementsLoadInAppendOrder) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStudy(MakeStudy("s")).ok());
  Trial t1 = MakeTrial(1, "s", caviar::v1::ACTIVE);
  Trial t2 = MakeTrial(2, "s", caviar::v1::ACTIVE);
  // Steps deliberately out of order: append order is what counts.
  Measurement a = MakeMeasurement(3, 0.1), b = MakeMeasurement(1, 0.2),
              c = MakeMeasurement(2, 0.3), d = MakeMeasurement(5, 0.4),
              e = MakeMeasurement(1, 0.5);
  WriteBatch first;
  first.PutTrial(t2);  // Inserted before t1: load order is by id.
  first.PutTrial(t1);
  first.AddMeasurement(1, a);
  first.AddMeasurement(2, b);
  first.AddMeasurement(1, c);
  ASSERT_TRUE(store->Commit(first).ok());
  WriteBatch second;
  second.AddMeasurement(2, d);
  second.AddMeasurement(1, e);
  ASSERT_TRUE(store->Commit(second).ok());
  auto trials = store->LoadTrials("s");
  ASSERT_TRUE(trials.ok()) << trials.status();
  EXPECT_THAT(*trials, ElementsAre(EqualsProto(WithMeasurements(t1, {a, c, e})),
                                   EqualsProto(WithMeasurements(t2, {b, d}))));
}

TEST_P(StoreConformanceTest, MeasurementOfUnknownTrialIsNotFound) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  absl::Status status = AddMeasurement(*store, 42, MakeMeasurement(1, 0.5));
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("42"));
}

TEST_P(StoreConformanceTest, LoadTrialsReturnsOnlyThatStudyById) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStudy(MakeStudy("a")).ok());
  ASSERT_TRUE(store->CreateStudy(MakeStudy("b")).ok());
  WriteBatch batch;
  for (int64_t id : {5, 2, 9, 3}) {
    batch.PutTrial(MakeTrial(id, id % 2 ? "a" : "b", caviar::v1::PENDING));
    batch.AddMeasurement(id, MakeMeasurement(1, 0.01 * id));
  }
  ASSERT_TRUE(store->Commit(batch).ok());
  auto a = store->LoadTrials("a");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_THAT(*a, SizeIs(3));
  EXPECT_EQ((*a)[0].id(), 3);
  EXPECT_EQ((*a)[1].id(), 5);
  EXPECT_EQ((*a)[2].id(), 9);
  for (const Trial& t : *a) {
    ASSERT_THAT(t.measurements(), SizeIs(1));
    EXPECT_DOUBLE_EQ(t.measurements(0).metrics().at("dev_accuracy"), 0.01 * t.id());
  }
  auto b = store->LoadTrials("b");
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_THAT(*b, SizeIs(1));
  EXPECT_EQ((*b)[0].id(), 2);
}

// Trials 1..8 of study "s": odd ids SUCCEEDED with objective 10 - id (so a
// higher id is better when minimizing), 4 FAILED without one, the rest
// PENDING; two measurements each. Trial 20 belongs to study "t".
void FillForQueries(Store& store) {
  ASSERT_TRUE(store.CreateStudy(MakeStudy("s")).ok());
  ASSERT_TRUE(store.CreateStudy(MakeStudy("t")).ok());
  WriteBatch batch;
  for (int64_t id = 1; id <= 8; ++id) {
    Trial t = MakeTrial(id, "s", id % 2 ? caviar::v1::SUCCEEDED
                                 : id == 4 ? caviar::v1::FAILED
                                           : caviar::v1::PENDING);
    if (id % 2) t.set_objective_value(10.0 - id);
    batch.PutTrial(t);
    batch.AddMeasurement(id, MakeMeasurement(1, 0.1 * id));
    batch.AddMeasurement(id, MakeMeasurement(2, 0.2 * id));
  }
  batch.PutTrial(MakeTrial(20, "t", caviar::v1::SUCCEEDED));
  ASSERT_TRUE(store.Commit(batch).ok());
}

std::vector<int64_t> Ids(const TrialPage& page) {
  std::vector<int64_t> ids;
  for (const Trial& t : page.trials) ids.push_back(t.id());
  return ids;
}

TEST_P(StoreConformanceTest, QueryTrialsPagesByIdWithStatesAndTotal) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  FillForQueries(*store);
  TrialQuery q;
  q.study = "s";
  q.limit = 3;
  q.count_total = true;
  auto page = store->QueryTrials(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Ids(*page), ElementsAre(1, 2, 3));
  EXPECT_EQ(page->total, 8);
  EXPECT_THAT(page->trials[0].measurements(), IsEmpty());  // Not asked for.
  q.after_id = 3;
  q.with_measurements = true;
  page = store->QueryTrials(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Ids(*page), ElementsAre(4, 5, 6));
  ASSERT_THAT(page->trials[0].measurements(), SizeIs(2));
  EXPECT_EQ(page->trials[0].measurements(1).step(), 2);
  q.after_id = 0;
  q.offset = 6;
  page = store->QueryTrials(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Ids(*page), ElementsAre(7, 8));
  q.offset = 100;  // Past the end: an empty page.
  page = store->QueryTrials(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->trials, IsEmpty());
  q = TrialQuery();
  q.study = "s";
  q.states = {caviar::v1::FAILED, caviar::v1::PENDING};
  q.count_total = true;
  page = store->QueryTrials(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Ids(*page), ElementsAre(2, 4, 6, 8));
  EXPECT_EQ(page->total, 4);
  EXPECT_EQ(page->trials[1].state(), caviar::v1::FAILED);
  q.study = "nobody";
  page = store->QueryTrials(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->trials, IsEmpty());
  EXPECT_EQ(page->total, 0);
}

TEST_P(StoreConformanceTest, QueryTrialsOrdersByObjectiveWithoutValuesLast) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  FillForQueries(*store);
  TrialQuery q;
  q.study = "s";
  q.order = TrialQuery::Order::kObjectiveAscending;
  auto page = store->QueryTrials(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Ids(*page), ElementsAre(7, 5, 3, 1, 2, 4, 6, 8));
  q.order = TrialQuery::Order::kObjectiveDescending;
  q.states = {caviar::v1::SUCCEEDED};
  q.limit = 2;
  page = store->QueryTrials(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Ids(*page), ElementsAre(1, 3));
}

TEST_P(StoreConformanceTest, QueryTrialsRefusesNegativeOffsetOrLimit) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  TrialQuery q;
  q.study = "s";
  q.limit = -1;
  auto page = store->QueryTrials(q);
  EXPECT_TRUE(absl::IsInvalidArgument(page.status())) << page.status();
  EXPECT_THAT(page.status().message(), HasSubstr("limit"));
  q.limit = 1;
  q.offset = -5;
  page = store->QueryTrials(q);
  EXPECT_TRUE(absl::IsInvalidArgument(page.status())) << page.status();
  EXPECT_THAT(page.status().message(), HasSubstr("offset"));
}

TEST_P(StoreConformanceTest, LoadTrialReturnsOneTrialWithItsCurve) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  FillForQueries(*store);
  auto trial = store->LoadTrial(5);
  ASSERT_TRUE(trial.ok()) << trial.status();
  EXPECT_EQ(trial->study(), "s");
  EXPECT_EQ(trial->objective_value(), 5.0);
  ASSERT_THAT(trial->measurements(), SizeIs(2));
  EXPECT_DOUBLE_EQ(trial->measurements(1).metrics().at("dev_accuracy"), 1.0);
  auto missing = store->LoadTrial(404);
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_THAT(missing.status().message(), HasSubstr("404"));
}

TEST_P(StoreConformanceTest, MissingKeysAreInvalidArgumentAndWriteNothing) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStudy(MakeStudy("s")).ok());
  Trial good = MakeTrial(1, "s", caviar::v1::PENDING);
  struct Case {
    const char* field;
    WriteBatch batch;
  };
  std::vector<Case> cases(4);
  cases[0].field = "id";
  cases[0].batch.PutTrial(good);
  cases[0].batch.PutTrial(MakeTrial(0, "s", caviar::v1::PENDING));
  cases[1].field = "study";
  cases[1].batch.PutTrial(good);
  cases[1].batch.PutTrial(MakeTrial(2, "", caviar::v1::PENDING));
  cases[2].field = "trial_id";
  cases[2].batch.PutTrial(good);
  cases[2].batch.AddMeasurement(-1, MakeMeasurement(1, 0));
  cases[3].field = "spec.name";
  cases[3].batch.PutTrial(good);
  cases[3].batch.UpdateStudy(MakeStudy(""));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    absl::Status status = store->Commit(c.batch);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    EXPECT_THAT(status.message(), HasSubstr(c.field));
  }
  auto trials = store->LoadTrials("s");
  ASSERT_TRUE(trials.ok());
  EXPECT_THAT(*trials, IsEmpty());
}

TEST_P(StoreConformanceTest, BatchWithOneBadWriteLeavesNothingBehind) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Study original = MakeStudy("s");
  ASSERT_TRUE(store->CreateStudy(original).ok());
  Trial existing = MakeTrial(1, "s", caviar::v1::ACTIVE);
  ASSERT_TRUE(PutTrial(*store, existing).ok());

  Study changed = original;
  changed.set_state(caviar::v1::STUDY_STOPPED);
  Trial replaced = existing;
  replaced.set_state(caviar::v1::FAILED);
  WriteBatch batch;
  batch.UpdateStudy(changed);
  batch.PutTrial(replaced);
  batch.PutTrial(MakeTrial(2, "s", caviar::v1::ACTIVE));
  batch.AddMeasurement(1, MakeMeasurement(1, 0.9));
  batch.AddMeasurement(99, MakeMeasurement(1, 0.9));  // The bad write, last.
  absl::Status status = store->Commit(batch);
  EXPECT_TRUE(absl::IsNotFound(status)) << status;

  auto studies = store->LoadStudies();
  ASSERT_TRUE(studies.ok());
  EXPECT_THAT(*studies, ElementsAre(EqualsProto(original)));
  auto trials = store->LoadTrials("s");
  ASSERT_TRUE(trials.ok());
  EXPECT_THAT(*trials, ElementsAre(EqualsProto(existing)));
  auto max_id = store->MaxTrialId();
  ASSERT_TRUE(max_id.ok());
  EXPECT_EQ(*max_id, 1);
  // The store is still usable after the failed transaction.
  EXPECT_TRUE(PutTrial(*store, MakeTrial(2, "s", caviar::v1::ACTIVE)).ok());
}

TEST_P(StoreConformanceTest, EmptyBatchIsOk) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Commit(WriteBatch()).ok());
}

TEST_P(StoreConformanceTest, MaxTrialIdIsTheLargestEverStored) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStudy(MakeStudy("a")).ok());
  ASSERT_TRUE(store->CreateStudy(MakeStudy("b")).ok());
  ASSERT_TRUE(PutTrial(*store, MakeTrial(5, "a", caviar::v1::PENDING)).ok());
  ASSERT_TRUE(PutTrial(*store, MakeTrial(11, "b", caviar::v1::PENDING)).ok());
  ASSERT_TRUE(PutTrial(*store, MakeTrial(3, "a", caviar::v1::PENDING)).ok());
  auto max_id = store->MaxTrialId();
  ASSERT_TRUE(max_id.ok()) << max_id.status();
  EXPECT_EQ(*max_id, 11);
  store.reset();
  store = Open();
  ASSERT_NE(store, nullptr);
  max_id = store->MaxTrialId();
  ASSERT_TRUE(max_id.ok()) << max_id.status();
  EXPECT_EQ(*max_id, 11);
}

TEST_P(StoreConformanceTest, ReopenFindsEverything) {
  std::vector<Study> studies;
  std::map<std::string, std::vector<Trial>> trials;
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    int64_t id = 0;
    for (const char* name : {"b", "a", "c"}) {
      studies.push_back(MakeStudy(name));
      ASSERT_TRUE(store->CreateStudy(studies.back()).ok());
      for (int i = 0; i < 4; ++i) {
        Trial t = MakeTrial(++id, name, caviar::v1::ACTIVE);
        WriteBatch batch;
        batch.PutTrial(t);
        std::vector<Measurement> curve;
        for (int step = 1; step <= i; ++step) {
          curve.push_back(MakeMeasurement(step, 0.1 * step));
          batch.AddMeasurement(id, curve.back());
        }
        if (i % 2 == 1) {
          t.set_state(caviar::v1::SUCCEEDED);
          t.set_objective_value(0.1 * i);
          batch.PutTrial(t);
        }
        ASSERT_TRUE(store->Commit(batch).ok());
        trials[name].push_back(WithMeasurements(t, curve));
      }
    }
    studies[1].set_state(caviar::v1::STUDY_COMPLETED);
    WriteBatch batch;
    batch.UpdateStudy(studies[1]);
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto loaded = store->LoadStudies();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_THAT(*loaded, SizeIs(3));
  for (size_t i = 0; i < studies.size(); ++i) {
    EXPECT_THAT((*loaded)[i], EqualsProto(studies[i]));
    const std::string& name = studies[i].spec().name();
    auto loaded_trials = store->LoadTrials(name);
    ASSERT_TRUE(loaded_trials.ok()) << loaded_trials.status();
    ASSERT_THAT(*loaded_trials, SizeIs(trials[name].size()));
    for (size_t j = 0; j < trials[name].size(); ++j) {
      EXPECT_THAT((*loaded_trials)[j], EqualsProto(trials[name][j]));
    }
  }
  auto max_id = store->MaxTrialId();
  ASSERT_TRUE(max_id.ok());
  EXPECT_EQ(*max_id, 12);
}

// Many threads run the coordinator's write pattern at once, with bad
// batches mixed in; every good write lands, every bad one fails alone.
TEST_P(StoreConformanceTest, ConcurrentCommitsAllLand) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStudy(MakeStudy("s")).ok());
  constexpr int kThreads = 8, kTrialsPerThread = 30;
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTrialsPerThread; ++i) {
        int64_t id = 1 + t * kTrialsPerThread + i;
        Trial trial = MakeTrial(id, "s", caviar::v1::ACTIVE);
        if (!PutTrial(*store, trial).ok()) ++unexpected;
        if (!AddMeasurement(*store, id, MakeMeasurement(1, 0.5)).ok()) {
          ++unexpected;
        }
        WriteBatch bad;  // A good write and a bad one: neither may land.
        bad.AddMeasurement(id, MakeMeasurement(2, 0.6));
        bad.AddMeasurement(1000000 + id, MakeMeasurement(1, 0.5));
        if (!absl::IsNotFound(store->Commit(bad))) ++unexpected;
        trial.set_state(caviar::v1::SUCCEEDED);
        trial.set_objective_value(0.5);
        if (!PutTrial(*store, trial).ok()) ++unexpected;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(unexpected.load(), 0);
  auto trials = store->LoadTrials("s");
  ASSERT_TRUE(trials.ok()) << trials.status();
  ASSERT_THAT(*trials, SizeIs(kThreads * kTrialsPerThread));
  for (size_t i = 0; i < trials->size(); ++i) {
    const Trial& trial = (*trials)[i];
    EXPECT_EQ(trial.id(), static_cast<int64_t>(i) + 1);
    EXPECT_EQ(trial.state(), caviar::v1::SUCCEEDED);
    ASSERT_THAT(trial.measurements(), SizeIs(1)) << "trial " << trial.id();
    EXPECT_EQ(trial.measurements(0).step(), 1);
  }
}

// The child process commits as fast as it can and acknowledges each commit
// on a pipe; the parent kills it with SIGKILL at a random moment, then
// reopens the store: every acknowledged write must be there.
void RunKillNineRound(const StoreFactory& factory, const std::string& path, int threads,
                      int64_t first_id, int kill_after_acks) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto store = factory.open(path);
    if (!store.ok()) _exit(3);
    std::mutex write_mu;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (int64_t k = 0;; ++k) {
          int64_t id = first_id + t * 1000000 + k;
          WriteBatch batch;
          batch.PutTrial(MakeTrial(id, "s", caviar::v1::ACTIVE));
          batch.AddMeasurement(id, MakeMeasurement(k, 0.5));
          if (!(*store)->Commit(batch).ok()) _exit(4);
          char line[32];
          int n = std::snprintf(line, sizeof line, "%lld\n", static_cast<long long>(id));
          std::lock_guard<std::mutex> lock(write_mu);
          // One write(2) of < PIPE_BUF bytes: lines never interleave.
          if (write(fds[1], line, n) != n) _exit(5);
        }
      });
    }
    for (std::thread& w : workers) w.join();
    _exit(0);
  }
  close(fds[1]);
  std::set<int64_t> acked;
  std::string pending;
  bool killed = false;
  char buffer[4096];
  for (;;) {
    // A child that stops acknowledging (deadlock) fails the test, not CI.
    pollfd readable{fds[0], POLLIN, 0};
    if (poll(&readable, 1, /*timeout_ms=*/20000) != 1) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      close(fds[0]);
      FAIL() << "child acknowledged nothing for 20 s after " << acked.size()
             << " commits";
    }
    ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    pending.append(buffer, n);
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      acked.insert(std::stoll(pending.substr(0, newline)));
      pending.erase(0, newline + 1);
    }
    if (!killed && static_cast<int>(acked.size()) >= kill_after_acks) {
      kill(pid, SIGKILL);
      killed = true;  // Keep reading: acks sent before death are in the pipe.
    }
  }
  close(fds[0]);
  int wait_status = 0;
  ASSERT_EQ(waitpid(pid, &wait_status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL)
      << "child ended by itself, status " << wait_status;
  ASSERT_GE(static_cast<int>(acked.size()), kill_after_acks);

  auto store = factory.open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto trials = (*store)->LoadTrials("s");
  ASSERT_TRUE(trials.ok()) << trials.status();
  std::map<int64_t, const Trial*> by_id;
  for (const Trial& t : *trials) by_id[t.id()] = &t;
  int missing = 0;
  for (int64_t id : acked) {
    auto it = by_id.find(id);
    if (it == by_id.end() || it->second->measurements_size() != 1) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << acked.size() << " acknowledged commits";
}

TEST_P(StoreConformanceTest, KillNineLosesNoAcknowledgedCommit) {
  if (!GetParam().durable) GTEST_SKIP() << "a store in memory does not outlive its process";
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateStudy(MakeStudy("s")).ok());
  }
  std::random_device seed_source;
  const unsigned seed = seed_source();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> kill_after(1, 150);
  int64_t first_id = 1;
  for (int threads : {1, 4, 1}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    RunKillNineRound(GetParam(), path(), threads, first_id, kill_after(rng));
    first_id += 10000000;
  }
}

}  // namespace
}  // namespace caviar::storage
