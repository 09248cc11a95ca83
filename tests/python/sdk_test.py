"""The caviar SDK against a real caviar-coordinator on loopback."""

import threading
import time
import unittest

import caviar
from coordinator_fixture import Coordinator, CoordinatorTest, free_port


class AskTellTest(CoordinatorTest):
    def test_ask_report_tell_round_trip(self):
        study = self.client.create_study(self.external_spec("round_trip"))
        self.assertIn("external", study.spec)
        trial = study.ask(timeout=10)
        self.assertIsNotNone(trial)
        # Plain Python values, one type per domain.
        self.assertIsInstance(trial.params["lr"], float)
        self.assertTrue(1e-4 <= trial.params["lr"] <= 1)
        self.assertIsInstance(trial.params["units"], int)
        self.assertIn(trial.params["opt"], ("adam", "sgd"))
        self.assertFalse(trial.report(1, score=0.5, loss=2.0))
        self.assertFalse(trial.report(2, score=0.7, loss=1.0))
        done = trial.tell(0.75)
        self.assertEqual(done["state"], "SUCCEEDED")
        self.assertEqual(done["value"], 0.75)

        best = study.best(1)
        self.assertEqual(len(best), 1)
        self.assertEqual(best[0]["id"], trial.id)
        self.assertEqual(best[0]["params"], trial.params)
        trials = study.trials(curves=True)
        self.assertEqual([t["id"] for t in trials], [trial.id])
        self.assertEqual([p["step"] for p in trials[0]["curve"]], [1, 2])
        self.assertEqual(trials[0]["curve"][1]["metrics"], {"score": 0.7, "loss": 1.0})
        self.assertEqual(study.info()["succeeded"], 1)
        with self.assertRaisesRegex(RuntimeError, "already ended"):
            trial.report(3, score=1.0)

    def test_two_asks_are_two_trials(self):
        study = self.client.create_study(self.external_spec("two_asks"))
        a, b = study.ask(timeout=10), study.ask(timeout=10)
        self.assertNotEqual(a.id, b.id)
        a.tell(0.1)
        b.fail("out of memory")
        self.assertEqual({t["state"] for t in study.trials()}, {"SUCCEEDED", "FAILED"})
        self.assertEqual(study.trials(states=["failed"])[0]["failure_reason"], "out of memory")

    def test_create_from_yaml_text_and_load_if_exists(self):
        text = ("name: from_yaml\nobjective: {metric: score, goal: MINIMIZE}\n"
                "parameters:\n  - name: lr\n    double: {min: 1e-4, max: 1e-1}\n"
                "    scale: LOG\nalgorithm: {name: random}\nbudget: {max_trials: 2}\n")
        study = self.client.create_study(text)
        self.assertEqual(study.spec["parameters"][0]["double"]["min"], 1e-4)
        again = self.client.create_study(text, load_if_exists=True)
        self.assertEqual(again.name, "from_yaml")
        with self.assertRaises(caviar.CaviarError) as refused:
            self.client.create_study(text)
        self.assertEqual(refused.exception.code.name, "ALREADY_EXISTS")
        self.assertIn("from_yaml", [s["name"] for s in self.client.studies()])

    def test_create_from_a_yaml_file(self):
        import pathlib
        import tempfile
        with tempfile.TemporaryDirectory() as folder:
            path = pathlib.Path(folder, "study.yaml")
            path.write_text("name: from_file\nobjective: {metric: score, goal: MAXIMIZE}\n"
                            "parameters: [{name: x, discrete: {values: [1, 2.5]}}]\n"
                            "algorithm: {name: grid}\nbudget: {max_trials: 2}\n")
            study = self.client.create_study(path)
            values = sorted(caviar.run_worker(study, lambda t: t["x"]),
                            key=lambda t: t["value"])
        self.assertEqual([t["params"]["x"] for t in values], [1.0, 2.5])

    def test_pruned_trial_is_told_to_stop(self):
        spec = self.external_spec("pruned", budget={"max_trials": 4},
                                  pruner={"name": "median",
                                          "options": {"min_trials": 1, "warmup_steps": 0}})
        study = self.client.create_study(spec)
        first = study.ask(timeout=10)
        self.assertFalse(first.report(1, score=0.9))
        first.tell(0.9)
        second = study.ask(timeout=10)
        self.assertTrue(second.report(1, score=0.1))
        self.assertTrue(second.should_stop)
        self.assertIn("median", second.stop_reason)
        done = second.tell()  # The last reported metrics, as STOPPED.
        self.assertEqual(done["state"], "STOPPED")
        self.assertEqual(done["value"], 0.1)

    def test_nudges_reach_the_trial(self):
        from caviar.v1 import service_pb2
        study = self.client.create_study(self.external_spec("nudged"))
        trial = study.ask(timeout=10)
        self.client._conn.call("NudgeTrial", service_pb2.NudgeTrialRequest(
            trial_id=trial.id, parameters={"lr": caviar.v1.trial_pb2.ParameterValue(
                double_value=0.5)}))
        trial.report(1, score=0.3)
        self.assertEqual(trial.params["lr"], 0.5)
        self.assertEqual(trial.updates, [(1, {"lr": 0.5})])
        trial.tell(0.3)

    def test_context_manager_fails_the_trial_on_exception(self):
        study = self.client.create_study(self.external_spec("ctx"))
        with self.assertRaises(ZeroDivisionError):
            with study.ask(timeout=10) as trial:
                trial.report(1, score=0.2)
                1 / 0
        stored = study.trials()[0]
        self.assertEqual(stored["id"], trial.id)
        self.assertEqual(stored["state"], "FAILED")
        self.assertIn("ZeroDivisionError", stored["failure_reason"])
        with study.ask(timeout=10) as told:
            told.tell(0.4)
        self.assertEqual(study.trials(states=["SUCCEEDED"])[0]["id"], told.id)

    def test_run_worker_finishes_a_study(self):
        study = self.client.create_study(self.external_spec("run_worker",
                                                            budget={"max_trials": 5}))

        def objective(trial):
            for step in range(3):
                trial.report(step, score=step * trial.params["lr"])
            if trial.params["units"] < 0:
                raise AssertionError("never")
            return trial.params["lr"]

        done = caviar.run_worker(study, objective, timeout=30)
        self.assertEqual(len(done), 5)
        self.assertTrue(all(t["state"] == "SUCCEEDED" for t in done))
        info = study.info()
        self.assertEqual(info["state"], "STUDY_COMPLETED")
        self.assertEqual(info["succeeded"], 5)
        self.assertIsNone(study.ask(timeout=5))  # Ended: nothing more to ask.
        best = study.best(2)
        self.assertEqual(best[0]["value"], max(t["value"] for t in done))

    def test_run_worker_fails_a_raising_objective_and_goes_on(self):
        study = self.client.create_study(self.external_spec("raising"))
        calls = []

        def objective(trial):
            calls.append(trial.id)
            if len(calls) == 1:
                raise ValueError("bad batch")
            return 1.0

        done = caviar.run_worker(study, objective, n_trials=3, timeout=30)
        self.assertEqual([t["state"] for t in done], ["FAILED", "SUCCEEDED", "SUCCEEDED"])
        self.assertIn("ValueError: bad batch", done[0]["failure_reason"])


class BadInputTest(CoordinatorTest):
    def test_errors_name_the_field(self):
        with self.assertRaisesRegex(caviar.SpecError, "max_trial"):
            self.client.create_study(self.external_spec("bad1", budget={"max_trial": 3}))
        with self.assertRaisesRegex(caviar.SpecError, "budget.max_trials"):
            self.client.create_study(self.external_spec("bad2", budget={"max_trials": 0}))
        with self.assertRaisesRegex(caviar.SpecError, "line|mapping"):
            self.client.create_study("name: [unclosed\n")
        self.assertEqual(self.client.studies(), [])  # Nothing was created.
        study = self.client.create_study(self.external_spec("bad_reports"))
        trial = study.ask(timeout=10)
        with self.assertRaisesRegex(TypeError, "^step: must be an int"):
            trial.report("3", score=1.0)
        with self.assertRaisesRegex(TypeError, r"metrics\['score'\]: must be a number"):
            trial.report(3, score="high")
        with self.assertRaisesRegex(ValueError, "^metrics: report at least one"):
            trial.report(3)
        trial.report(3, score=1.0)
        with self.assertRaisesRegex(ValueError, "^step: must not go back"):
            trial.report(2, score=1.0)
        with self.assertRaisesRegex(ValueError, r"^value: give the objective \('score'\)"):
            trial.tell()
        with self.assertRaisesRegex(ValueError, "^kind: unknown failure kind"):
            trial.fail("x", kind="melted")
        with self.assertRaisesRegex(ValueError, "^k: must be an int >= 1"):
            study.best(0)
        with self.assertRaisesRegex(ValueError, r"^states\[0\]: unknown trial state"):
            study.trials(states=["DONE"])
        with self.assertRaisesRegex(ValueError, "^address:"):
            caviar.Client("")
        trial.tell(1.0)
        with self.assertRaisesRegex(caviar.CaviarError, 'study "nope" not found'):
            self.client.load_study("nope")

    def test_the_sdk_does_not_run_command_studies(self):
        spec = self.external_spec("has_command", command={"argv": ["true"]})
        study = self.client.create_study(spec)
        with self.assertRaisesRegex(caviar.CaviarError, "run by caviar-worker"):
            study.ask(timeout=1)


class HeartbeatTest(CoordinatorTest):
    lease_seconds = 2  # The coordinator's default lease, in seconds.

    def test_heartbeat_keeps_the_lease_past_lease_seconds(self):
        study = self.client.create_study(self.external_spec("heartbeat"))
        trial = study.ask(timeout=10)
        time.sleep(6.5)  # Three leases without a report; the coordinator
        other = study.ask(timeout=10)  # reaps expired leases every second.
        self.assertNotEqual(other.id, trial.id)  # Ours was not handed out again,
        self.assertEqual(trial.tell(0.5)["state"], "SUCCEEDED")  # and is still ours.
        self.assertEqual(trial.result["attempt"], 1)
        other.tell(0.1)

    def test_without_heartbeat_the_lease_is_lost(self):
        # The control: the same wait without heartbeats loses the lease, and
        # the trial goes to the next client that asks.
        study = self.client.create_study(self.external_spec("no_heartbeat"))
        trial = study.ask(timeout=10, heartbeat=False)
        time.sleep(6.5)
        other = study.ask(timeout=10)
        self.assertEqual((other.id, other.attempt), (trial.id, 2))
        with self.assertRaises(caviar.LeaseLost):
            trial.tell(0.5)
        other.tell(0.2)


class RetryTest(unittest.TestCase):
    def test_calls_wait_for_a_coordinator_that_comes_up(self):
        port = free_port()
        client = caviar.Client(f"127.0.0.1:{port}", retry_seconds=20)
        result = {}
        caller = threading.Thread(target=lambda: result.update(studies=client.studies()))
        caller.start()
        time.sleep(1.0)  # UNAVAILABLE meanwhile: retried.
        coordinator = Coordinator(port=port)
        try:
            caller.join(timeout=20)
            self.assertEqual(result.get("studies"), [])
        finally:
            client.close()
            coordinator.cleanup()

    def test_gives_up_after_retry_seconds(self):
        client = caviar.Client(f"127.0.0.1:{free_port()}", retry_seconds=0.5)
        start = time.monotonic()
        with self.assertRaises(caviar.CaviarError) as failed:
            client.studies()
        self.assertEqual(failed.exception.code.name, "UNAVAILABLE")
        self.assertLess(time.monotonic() - start, 5)
        client.close()


if __name__ == "__main__":
    unittest.main()
