"""Seldon's server flags: --workers, --metrics-port, --pidfile are honoured; the rest are refused with a reason."""

import http.client
import os
import signal
import tempfile
import time
import unittest

from .support import FIXTURES, Server, free_port, microservice_command, run_to_exit

DEADLINE = 30


def wait_for(condition, what, timeout=DEADLINE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


class WorkersTest(unittest.TestCase):
    def setUp(self):
        self.server = Server("wrapper_models.WhichProcess", args=("--workers", "2"))

    def tearDown(self):
        self.server.stop()

    def answering_pids(self, want):
        seen = set()

        def more():
            # A new connection each time: the kernel spreads connections, not requests.
            status, reply = self.server.post_json("/predict", {"data": {"ndarray": [[1]]}})
            self.assertEqual(status, 200)
            seen.add(reply["jsonData"]["pid"])
            return len(seen) >= want

        wait_for(more, "%d processes to answer" % want)
        return seen

    def test_two_workers_answer_on_one_port(self):
        pids = self.answering_pids(2)
        self.assertIn(self.server.process.pid, pids)

    def test_workers_die_with_the_first_process_even_by_kill_9(self):
        worker = next(p for p in self.answering_pids(2) if p != self.server.process.pid)
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait(timeout=DEADLINE)
        wait_for(lambda: not alive(worker), "worker %d to exit" % worker)

    def test_a_worker_that_dies_stops_the_host_with_exit_code_1(self):
        worker = next(p for p in self.answering_pids(2) if p != self.server.process.pid)
        os.kill(worker, signal.SIGKILL)
        self.assertEqual(self.server.process.wait(timeout=DEADLINE), 1)
        self.assertIn("worker %d was killed by signal 9" % worker, "".join(self.server.stderr_lines))

    def test_sigterm_stops_every_worker_with_exit_code_0(self):
        worker = next(p for p in self.answering_pids(2) if p != self.server.process.pid)
        self.assertEqual(self.server.stop(), 0)
        wait_for(lambda: not alive(worker), "worker %d to exit" % worker)


class MetricsPortTest(unittest.TestCase):
    def test_metrics_port_serves_prometheus_with_each_workers_metrics(self):
        port = free_port()
        server = Server("wrapper_models.WhichProcess", args=("--workers", "2", "--metrics-port", str(port)),
                        env={"PREDICTIVE_UNIT_ID": "classifier"})
        try:
            pids = set()

            def both_answered():
                pids.add(server.post_json("/predict", {"data": {"ndarray": [[1]]}})[1]["jsonData"]["pid"])
                return len(pids) == 2

            wait_for(both_answered, "both workers to answer")

            def scrape():
                status, headers, body = get(port, "/prometheus")
                self.assertEqual(status, 200)
                self.assertTrue(headers["content-type"].startswith("text/plain"))
                text = body.decode()
                return text if all('worker_id="%d"' % p in text for p in pids) else None

            text = wait_for(scrape, "every worker's metrics on /prometheus")
            self.assertIn("# TYPE mycounter counter", text)
            self.assertIn('mygauge{colour="blue",', text)
            self.assertIn("# TYPE mytimer histogram", text)
            self.assertIn('model_name="classifier"', text)
            self.assertIn('trantor_component_requests_total{path="/predict",code="200"', text)
            self.assertEqual(get(port, "/metrics")[0], 200)
        finally:
            server.stop()

    def test_a_metrics_port_in_use_is_refused_at_start(self):
        server = Server("wrapper_models.WhichProcess")
        try:
            result = run_to_exit(microservice_command("wrapper_models.WhichProcess", "--metrics-port", str(server.port)),
                                 env={"PREDICTIVE_UNIT_HTTP_SERVICE_PORT": str(free_port())})
            self.assertEqual(result.returncode, 1)
            self.assertIn("--metrics-port", result.stderr)
        finally:
            server.stop()


def get(port, path):
    """(status, headers with lower-case names, body) of GET path on the metrics port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


class RefusedFlagsTest(unittest.TestCase):
    def refused(self, *args, env=None):
        result = run_to_exit(microservice_command("wrapper_models.WhichProcess", *args), env=env)
        self.assertEqual(result.returncode, 1, result.stderr)
        return result.stderr

    def test_threads_above_1_are_refused_pointing_at_workers(self):
        self.assertIn("use --workers 4", self.refused("--threads", "4"))

    def test_gunicorn_threads_in_the_environment_is_refused_too(self):
        self.assertIn("GUNICORN_THREADS 2", self.refused(env={"GUNICORN_THREADS": "2"}))

    def test_a_grpc_port_out_of_range_is_refused(self):
        self.assertIn("--grpc-port: expected a port number from 0 to 65535, got 70000", self.refused("--grpc-port", "70000"))

    def test_tracing_and_worker_recycling_are_refused(self):
        self.assertIn("--tracing 1", self.refused("--tracing", "1"))
        self.assertIn("--tracing 1: tracing is not supported", self.refused("--tracing"))
        self.assertIn("--max-requests 100", self.refused("--max-requests", "100"))

    def test_a_bad_worker_count_is_refused(self):
        self.assertIn("--workers: expected a number of at least 1", self.refused("--workers", "0"))


class HonouredFlagsTest(unittest.TestCase):
    def test_the_values_that_change_nothing_start(self):
        server = Server("wrapper_models.WhichProcess",
                        args=("--threads", "1", "--single-threaded", "1", "--tracing", "0", "--max-requests", "0", "--workers", "1"))
        try:
            self.assertEqual(server.post_json("/predict", {"data": {"ndarray": [[1]]}})[0], 200)
        finally:
            server.stop()

    def test_pidfile_holds_the_pid_while_serving(self):
        with tempfile.TemporaryDirectory() as folder:
            pidfile = os.path.join(folder, "host.pid")
            server = Server("wrapper_models.WhichProcess", args=("--pidfile", pidfile))
            try:
                with open(pidfile) as src:
                    self.assertEqual(int(src.read()), server.process.pid)
            finally:
                server.stop()
            self.assertFalse(os.path.exists(pidfile))

    def test_access_log_writes_a_line_per_request(self):
        server = Server("wrapper_models.WhichProcess", args=("--access-log",))
        try:
            server.post_json("/predict", {"data": {"ndarray": [[1]]}})
            wait_for(lambda: any("POST /predict 200" in line for line in server.stderr_lines), "the access log line")
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
