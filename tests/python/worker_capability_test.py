"""caviar-worker never takes trials it cannot run: an external study's trials
are left to SDK clients (issue 12; before run_kinds, a worker started without
--study took them and failed them all)."""

import os
import subprocess
import sys
import unittest

import caviar
from caviar.v1 import service_pb2, study_pb2
from coordinator_fixture import CoordinatorTest

COMMAND = [sys.executable, "-c", "print('caviar: step=1 score=0.5')"]


class WorkerCapabilityTest(CoordinatorTest):
    def run_worker(self, *args):
        return subprocess.run(
            [os.environ["CAVIAR_WORKER_BIN"], "--coordinator", self.coordinator.address,
             "--id", "cxx-worker", *args],
            capture_output=True, text=True, timeout=120)

    def test_a_worker_without_study_skips_external_studies(self):
        external = self.client.create_study(self.external_spec("sdk_only"))
        command = self.client.create_study(self.external_spec(
            "by_command", command={"argv": COMMAND}, budget={"max_trials": 2}))
        # The worker runs the command study (so it is asking for work) and
        # leaves once idle; the external study is never offered to it.
        worker = self.run_worker("--exit-when-idle", "2")
        self.assertEqual(worker.returncode, 0, worker.stderr)
        self.assertEqual([t["state"] for t in command.trials()], ["SUCCEEDED"] * 2)
        self.assertEqual(external.trials(), [])
        self.assertEqual(external.info()["state"], "STUDY_ACTIVE")
        # And the SDK still gets them.
        trial = external.ask(timeout=10)
        trial.tell(1.0)

    def test_a_worker_named_to_an_external_study_is_refused(self):
        self.client.create_study(self.external_spec("sdk_named"))
        worker = self.run_worker("--study", "sdk_named")
        self.assertNotEqual(worker.returncode, 0)
        self.assertIn("needs RUN_KIND_EXTERNAL", worker.stderr + worker.stdout)
        self.assertEqual(self.client.load_study("sdk_named").trials(), [])

    def test_run_kinds_are_checked(self):
        self.client.create_study(self.external_spec(
            "cmd_only", command={"argv": COMMAND}))
        conn = self.client._conn
        ask = service_pb2.SuggestTrialRequest(worker_id="raw", study="cmd_only",
                                              run_kinds=[study_pb2.RUN_KIND_EXTERNAL])
        with self.assertRaisesRegex(caviar.CaviarError, "needs RUN_KIND_COMMAND"):
            conn.call("SuggestTrial", ask)
        ask.run_kinds[:] = [study_pb2.RUN_KIND_EXTERNAL, 7]
        with self.assertRaisesRegex(caviar.CaviarError, r"run_kinds\[1\]: unknown run kind 7"):
            conn.call("SuggestTrial", ask)
        # An SDK client asking for any study gets none of the command study's.
        # (Other tests' external studies may have one to give.)
        ask.run_kinds[:] = [study_pb2.RUN_KIND_EXTERNAL]
        ask.study = ""
        self.assertNotEqual(conn.call("SuggestTrial", ask).trial.study, "cmd_only")
        ask.worker_id = "raw-command"
        ask.run_kinds[:] = [study_pb2.RUN_KIND_COMMAND]
        self.assertEqual(conn.call("SuggestTrial", ask).trial.study, "cmd_only")
        # A worker that says nothing (older than run_kinds) runs command and
        # trainer studies only.
        self.client.create_study(self.external_spec("sdk_for_old"))
        old = service_pb2.SuggestTrialRequest(worker_id="old-worker", study="sdk_for_old")
        with self.assertRaisesRegex(caviar.CaviarError, "needs RUN_KIND_EXTERNAL"):
            conn.call("SuggestTrial", old)
        old.study = ""
        self.assertNotIn(conn.call("SuggestTrial", old).trial.study,
                         ("sdk_for_old", "sdk_only", "sdk_named"))


if __name__ == "__main__":
    unittest.main()
