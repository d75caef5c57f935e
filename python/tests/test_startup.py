"""The seldon-core-microservice command line: finding the class, parameters, the shim, signals."""

import os
import signal
import unittest

from .support import FIXTURES, ML_SCORE_DIR, PYTHON, SHIM, Server, free_port, microservice_command, run_to_exit


class StartupFailureTest(unittest.TestCase):
    def assertFailsWith(self, result, *fragments):
        self.assertEqual(result.returncode, 1, result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, result.stderr)
        self.assertNotIn("trantor_runtime: serving", result.stdout)

    def test_missing_module_exits_1_naming_the_module_and_folder(self):
        result = run_to_exit(microservice_command("NoSuchModel"), cwd=FIXTURES)
        self.assertFailsWith(result, "cannot find module NoSuchModel", FIXTURES)

    def test_missing_class_exits_1_naming_module_and_class(self):
        result = run_to_exit(microservice_command("contract_models.NoSuchClass"), cwd=FIXTURES)
        self.assertFailsWith(result, "module contract_models", "has no class NoSuchClass")

    def test_class_named_after_its_module_is_looked_up_in_the_working_directory(self):
        result = run_to_exit(microservice_command("MLScore"), cwd=FIXTURES)
        self.assertFailsWith(result, "cannot find module MLScore")

    def test_constructor_failure_exits_1_with_the_exception(self):
        result = run_to_exit(microservice_command("contract_models.BrokenAtStart"), cwd=FIXTURES)
        self.assertFailsWith(result, "BrokenAtStart() failed: RuntimeError: the weights file is corrupt")

    def test_parameter_of_unknown_type_exits_1_naming_the_entry(self):
        params = '[{"name":"threshold","value":"x","type":"DECIMAL"}]'
        result = run_to_exit(microservice_command("contract_models.FullComponent", "--parameters", params), cwd=FIXTURES)
        self.assertFailsWith(result, "--parameters[0].type")

    def test_parameter_that_cannot_be_converted_exits_1(self):
        result = run_to_exit(
            microservice_command("contract_models.FullComponent"),
            cwd=FIXTURES,
            env={"PREDICTIVE_UNIT_PARAMETERS": '[{"name":"rounds","value":"many","type":"INT"}]'},
        )
        self.assertFailsWith(result, "PREDICTIVE_UNIT_PARAMETERS[0] (rounds)", "INT")

    def test_parameter_the_constructor_does_not_take_exits_1(self):
        params = '[{"name":"colour","value":"red","type":"STRING"}]'
        result = run_to_exit(microservice_command("contract_models.FullComponent", "--parameters", params), cwd=FIXTURES)
        self.assertFailsWith(result, "FullComponent cannot take the parameters colour")


class CommandLineTest(unittest.TestCase):
    def test_http_port_flag_overrides_the_environment(self):
        port = free_port()
        server = Server("contract_models.Echo", cwd=FIXTURES, args=("--http-port", str(port)), port=port)
        try:
            self.assertTrue(server.ready_line.endswith(":%d" % port))
            self.assertEqual(server.request("GET", "/health/ping")[2], b"pong")
        finally:
            server.stop()

    def test_sigterm_stops_the_server_with_exit_code_0(self):
        server = Server("contract_models.Echo", cwd=FIXTURES)
        server.process.send_signal(signal.SIGTERM)
        self.assertEqual(server.process.wait(timeout=10), 0)
        server.stop()

    def test_sigint_stops_the_server_with_exit_code_0(self):
        server = Server("contract_models.Echo", cwd=FIXTURES)
        server.process.send_signal(signal.SIGINT)
        self.assertEqual(server.process.wait(timeout=10), 0)
        server.stop()

    def test_shim_runs_the_seed_command_from_the_component_folder(self):
        self.assertTrue(os.access(SHIM, os.X_OK))
        env = {"TRANTOR_PYTHON": PYTHON, "PYTHONPATH": ""}
        server = Server(None, cwd=ML_SCORE_DIR, env=env,
                        command=[SHIM, "MLScore", "REST", "--service-type", "MODEL", "--persistence", "0"])
        try:
            self.assertEqual(server.ready_line, "trantor_runtime: serving MLScore on http://127.0.0.1:%d" % server.port)
            status, reply = server.post_json("/predict", {"data": {"ndarray": [[1, 2]]}})
            self.assertEqual((status, reply["data"]["ndarray"]), (200, [[1, 2]]))
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
