"""A real caviar-coordinator on loopback (port 0) with its own SQLite file,
for the SDK tests. Paths come from the environment CTest sets:
CAVIAR_COORDINATOR_BIN, CAVIAR_WORKER_BIN."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Coordinator:
    def __init__(self, lease_seconds=60, port=None, folder=None):
        self.folder = folder or tempfile.mkdtemp(prefix="caviar-sdk-")
        self._own_folder = folder is None
        port_file = os.path.join(self.folder, f"port-{time.monotonic_ns()}")
        self.log = open(os.path.join(self.folder, "coordinator.log"), "ab")
        self.process = subprocess.Popen(
            [os.environ["CAVIAR_COORDINATOR_BIN"], "--listen", f"127.0.0.1:{port or 0}",
             "--port-file", port_file, "--db", os.path.join(self.folder, "caviar.db"),
             "--lease-seconds", str(lease_seconds)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not _read(port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"coordinator did not start; see {self.log.name}")
            time.sleep(0.02)
        self.address = f"127.0.0.1:{int(_read(port_file))}"

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def cleanup(self):
        self.stop()
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)


class CoordinatorTest(unittest.TestCase):
    """One coordinator per test class; `self.client` per test."""

    lease_seconds = 60

    @classmethod
    def setUpClass(cls):
        cls.coordinator = Coordinator(lease_seconds=cls.lease_seconds)

    @classmethod
    def tearDownClass(cls):
        cls.coordinator.cleanup()

    def setUp(self):
        import caviar
        self.client = caviar.Client(self.coordinator.address, retry_seconds=10)

    def tearDown(self):
        self.client.close()

    def external_spec(self, name, **extra):
        spec = {
            "name": name,
            "objective": {"metric": "score", "goal": "MAXIMIZE"},
            "parameters": [
                {"name": "lr", "double": {"min": 1e-4, "max": 1}, "scale": "LOG"},
                {"name": "units", "integer": {"min": 50, "max": 100}},
                {"name": "opt", "categorical": {"values": ["adam", "sgd"]}},
            ],
            "algorithm": {"name": "random"},
            "budget": {"max_trials": 3},
            "seed": 1,
        }
        spec.update(extra)
        return spec
