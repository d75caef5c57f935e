"""The host's gRPC server, with a real grpcio client: Seldon's component services (answers equal
REST's for the same input), errors as status codes, health, reflection, message size limits,
startup (flags, environment, grpcio missing), and the descriptor file's freshness."""

import base64
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest

try:
    import grpc
except ImportError as missing:  # CI installs grpcio: there, fail
    if os.environ.get("CI") == "true":
        raise
    raise unittest.SkipTest("grpcio is needed for the gRPC tests (" + str(missing) + ")") from None
from google.protobuf import descriptor_pb2, descriptor_pool, json_format

from trantor_runtime.grpc_schema import from_dict, schema, to_dict

from tests.support import REPO_DIR, Server, free_port, microservice_command, run_to_exit

IN_CI = os.environ.get("CI") == "true"
SCHEMA = schema()
SeldonMessage = SCHEMA.message("seldon.protos.SeldonMessage")
SeldonMessageList = SCHEMA.message("seldon.protos.SeldonMessageList")
Feedback = SCHEMA.message("seldon.protos.Feedback")
Metadata = SCHEMA.message("seldon.protos.SeldonModelMetadata")
Empty = SCHEMA.message("google.protobuf.Empty")
HealthRequest = SCHEMA.message("grpc.health.v1.HealthCheckRequest")
HealthResponse = SCHEMA.message("grpc.health.v1.HealthCheckResponse")
ReflectionRequest = SCHEMA.message("grpc.reflection.v1alpha.ServerReflectionRequest")
ReflectionResponse = SCHEMA.message("grpc.reflection.v1alpha.ServerReflectionResponse")


def call(channel, path, request, reply_cls, timeout=10):
    stub = channel.unary_unary(path, request_serializer=type(request).SerializeToString, response_deserializer=reply_cls.FromString)
    return stub(request, timeout=timeout)


def message(value, cls=SeldonMessage):
    return from_dict(value, cls)


class GrpcServer(Server):
    """The microservice with gRPC on a free port; ``channel`` talks to it."""

    def __init__(self, interface, args=(), env=None):
        self.grpc_port = free_port()
        super().__init__(interface, args=("--grpc-port", str(self.grpc_port), *args), env=env)
        # A client takes 4 MiB by default; the big-message test's answer is larger.
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % self.grpc_port, options=[("grpc.max_receive_message_length", 64 << 20)])

    def stop(self):
        self.channel.close()
        return super().stop()

    def seldon(self, service, method, value, request_cls=SeldonMessage, reply_cls=SeldonMessage):
        return to_dict(call(self.channel, "/seldon.protos.%s/%s" % (service, method), message(value, request_cls), reply_cls))


class SchemaTest(unittest.TestCase):
    def test_the_descriptor_file_is_what_the_script_writes_from_the_proto_files(self):
        node = shutil.which("node")
        if node is None:
            if IN_CI:
                self.fail("node is needed to check grpc_descriptors.bin")
            self.skipTest("node is not installed")
        script = os.path.join(REPO_DIR, "scripts", "proto-descriptors.ts")
        fresh = subprocess.run([node, "--import", "tsx", script, "--stdout"], cwd=REPO_DIR, stdout=subprocess.PIPE, check=True).stdout
        with open(os.path.join(REPO_DIR, "python", "trantor_runtime", "grpc_descriptors.bin"), "rb") as committed:
            self.assertEqual(committed.read(), fresh, "grpc_descriptors.bin is stale: run node --import tsx scripts/proto-descriptors.ts")

    def test_a_tftensor_round_trips_with_int64_exact(self):
        value = {
            "data": {
                "names": ["a", "b"],
                "tftensor": {
                    "dtype": "DT_INT64",
                    "tensorShape": {"dim": [{"size": "1"}, {"size": "2"}]},
                    "int64Val": ["9007199254740993", "-9223372036854775808"],
                },
            }
        }
        proto = message(value)
        self.assertEqual(list(proto.data.tftensor.int64_val), [9007199254740993, -9223372036854775808])
        self.assertEqual(to_dict(SeldonMessage.FromString(proto.SerializeToString())), value)

    def test_a_float_tftensor_keeps_its_values_and_shape(self):
        value = {"data": {"tftensor": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "2"}]}, "floatVal": [0.5, -1.25]}}}
        self.assertEqual(to_dict(message(value)), value)

    def test_bin_data_is_bytes_on_the_wire_and_base64_in_the_dict(self):
        raw = bytes(range(256))
        proto = message({"binData": base64.b64encode(raw).decode("ascii")})
        self.assertEqual(proto.binData, raw)
        self.assertEqual(base64.b64decode(to_dict(proto)["binData"]), raw)

    def test_a_field_of_the_wrong_type_names_the_field(self):
        with self.assertRaises(json_format.ParseError) as caught:
            message({"data": {"tensor": {"shape": ["x"], "values": [1]}}})
        self.assertIn("shape", str(caught.exception))


class SeldonServicesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = GrpcServer("contract_models.FullComponent")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def rest(self, path, value):
        status, body = self.server.post_json(path, value)
        self.assertEqual(status, 200, body)
        return body

    def assert_same_payload(self, grpc_reply, rest_reply):
        self.assertEqual(grpc_reply.get("data"), rest_reply.get("data"))
        self.assertEqual(grpc_reply.get("meta", {}).get("tags"), rest_reply.get("meta", {}).get("tags"))

    def test_predict_answers_as_rest_does_for_an_ndarray(self):
        value = {"data": {"names": ["x"], "ndarray": [[0.25], [0.75]]}, "meta": {"puid": "p-1", "tags": {"from": "test"}}}
        reply = self.server.seldon("Model", "Predict", value)
        self.assert_same_payload(reply, self.rest("/predict", value))
        self.assertEqual(reply["data"]["names"], ["low", "high"])
        self.assertEqual(reply["meta"]["puid"], "p-1")
        self.assertEqual(reply["meta"]["tags"]["from"], "test")

    def test_predict_answers_a_tensor_with_a_tensor(self):
        value = {"data": {"tensor": {"shape": [2, 1], "values": [0.25, 0.5]}}}
        reply = self.server.seldon("Model", "Predict", value)
        self.assert_same_payload(reply, self.rest("/predict", value))
        self.assertEqual(reply["data"]["tensor"], {"shape": [2, 2], "values": [0.75, 0.25, 0.5, 0.5]})

    def test_the_seldon_service_predicts_too(self):
        value = {"data": {"ndarray": [[0.5]]}}
        self.assertEqual(self.server.seldon("Seldon", "Predict", value)["data"], self.rest("/predict", value)["data"])

    def test_transformers_route_and_aggregate_call_the_same_methods_as_rest(self):
        value = {"data": {"ndarray": [[1.0, 2.0]]}}
        for service, method, path in (
            ("Transformer", "TransformInput", "/transform-input"),
            ("Generic", "TransformInput", "/transform-input"),
            ("OutputTransformer", "TransformOutput", "/transform-output"),
            ("Generic", "TransformOutput", "/transform-output"),
            ("Router", "Route", "/route"),
            ("Generic", "Route", "/route"),
        ):
            with self.subTest(service=service, method=method):
                self.assert_same_payload(self.server.seldon(service, method, value), self.rest(path, value))
        messages = {"seldonMessages": [{"data": {"ndarray": [[1.0, 3.0]]}}, {"data": {"ndarray": [[3.0, 5.0]]}}]}
        for service in ("Combiner", "Generic"):
            with self.subTest(service=service):
                reply = self.server.seldon(service, "Aggregate", messages, request_cls=SeldonMessageList)
                self.assert_same_payload(reply, self.rest("/aggregate", messages))
                self.assertEqual(reply["data"]["ndarray"], [[2.0, 4.0]])

    def test_the_router_answers_the_child_it_chose(self):
        self.assertEqual(self.server.seldon("Router", "Route", {"data": {"ndarray": [[0.9]]}})["data"]["ndarray"], [[1.0]])
        self.assertEqual(self.server.seldon("Router", "Route", {"data": {"ndarray": [[0.1]]}})["data"]["ndarray"], [[0.0]])

    def test_feedback_reaches_the_model_with_its_routing(self):
        feedback = {
            "request": {"data": {"ndarray": [[0.5]]}},
            "response": {"meta": {"routing": {"": 1}}},
            "reward": 0.5,
            "truth": {"data": {"ndarray": [[1.0]]}},
        }
        for service in ("Model", "Router", "Generic", "Seldon"):
            with self.subTest(service=service):
                reply = self.server.seldon(service, "SendFeedback", feedback, request_cls=Feedback)
                self.assertEqual(reply["data"], self.rest("/send-feedback", feedback)["data"])
        _, _, health = self.server.request("GET", "/health/status")
        rewards = json.loads(health)["jsonData"]["rewards"]
        self.assertEqual(rewards[0], {"reward": 0.5, "routing": 1, "truth": [[1.0]]})

    def test_metadata_is_the_models_metadata(self):
        reply = to_dict(call(self.server.channel, "/seldon.protos.Model/Metadata", Empty(), Metadata))
        self.assertEqual(reply["name"], "full-component")
        self.assertEqual(reply["versions"], ["full/v1"])
        self.assertEqual(reply["custom"], {"owner": "tests"})
        request = SCHEMA.message("seldon.protos.SeldonModelMetadataRequest")(name="full-component")
        self.assertEqual(to_dict(call(self.server.channel, "/seldon.protos.Seldon/ModelMetadata", request, Metadata)), reply)

    def test_graph_metadata_is_not_a_components(self):
        with self.assertRaises(grpc.RpcError) as caught:
            call(self.server.channel, "/seldon.protos.Seldon/GraphMetadata", Empty(), SCHEMA.message("seldon.protos.SeldonGraphMetadata"))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    def test_bad_input_is_invalid_argument_with_rests_message(self):
        value = {"data": {"tensor": {"shape": [2, 2], "values": [1.0]}}}
        status, body = self.server.post_json("/predict", value)
        self.assertEqual(status, 400)
        with self.assertRaises(grpc.RpcError) as caught:
            self.server.seldon("Model", "Predict", value)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(caught.exception.details(), body["status"]["info"])
        self.assertIn("data.tensor", caught.exception.details())

    def test_health_is_serving_for_the_server_and_each_service(self):
        for service in ("", "seldon.protos.Model", "inference.GRPCInferenceService", "grpc.health.v1.Health"):
            with self.subTest(service=service):
                reply = call(self.server.channel, "/grpc.health.v1.Health/Check", HealthRequest(service=service), HealthResponse)
                self.assertEqual(reply.status, HealthResponse.SERVING)
        with self.assertRaises(grpc.RpcError) as caught:
            call(self.server.channel, "/grpc.health.v1.Health/Check", HealthRequest(service="no.Such"), HealthResponse)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)

    def reflect(self, version="v1alpha", **request):
        stub = self.server.channel.stream_stream(
            "/grpc.reflection.%s.ServerReflection/ServerReflectionInfo" % version,
            request_serializer=ReflectionRequest.SerializeToString,
            response_deserializer=ReflectionResponse.FromString,
        )
        return list(stub(iter([ReflectionRequest(**request)]), timeout=10))[0]

    def test_reflection_lists_every_service(self):
        names = [s.name for s in self.reflect(list_services="*").list_services_response.service]
        for name in ("seldon.protos.Model", "seldon.protos.Generic", "seldon.protos.Combiner", "seldon.protos.Seldon",
                     "inference.GRPCInferenceService", "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection",
                     "grpc.reflection.v1.ServerReflection"):
            self.assertIn(name, names)
        self.assertEqual([s.name for s in self.reflect("v1", list_services="*").list_services_response.service], names)
        v1 = self.reflect("v1", file_containing_symbol="grpc.reflection.v1.ServerReflection").file_descriptor_response
        self.assertEqual(descriptor_pb2.FileDescriptorProto.FromString(v1.file_descriptor_proto[0]).package, "grpc.reflection.v1")

    def test_reflection_gives_files_a_client_can_build_a_method_from(self):
        reply = self.reflect(file_containing_symbol="seldon.protos.Model")
        files = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in reply.file_descriptor_response.file_descriptor_proto]
        self.assertEqual(files[0].name, "seldon.proto")
        pool = descriptor_pool.DescriptorPool()
        added = set()

        def add(file):
            if file.name in added:
                return
            for dependency in file.dependency:
                add(next(f for f in files if f.name == dependency))
            pool.Add(file)
            added.add(file.name)

        for file in files:
            add(file)
        method = pool.FindServiceByName("seldon.protos.Model").methods_by_name["Predict"]
        self.assertEqual(method.input_type.full_name, "seldon.protos.SeldonMessage")
        self.assertEqual(pool.FindMessageTypeByName("tensorflow.TensorProto").fields_by_name["int64_val"].number, 10)

    def test_reflection_finds_files_by_name_and_says_what_is_missing(self):
        reply = self.reflect(file_by_filename="v2.proto")
        first = descriptor_pb2.FileDescriptorProto.FromString(reply.file_descriptor_response.file_descriptor_proto[0])
        self.assertEqual(first.package, "inference")
        self.assertEqual(self.reflect(file_containing_symbol="inference.ModelInferRequest.InferInputTensor").file_descriptor_response.file_descriptor_proto[0],
                         reply.file_descriptor_response.file_descriptor_proto[0])
        missing = self.reflect(file_containing_symbol="no.such.Thing")
        self.assertEqual(missing.error_response.error_code, 5)
        self.assertIn("no.such.Thing", missing.error_response.error_message)

    def test_a_message_of_several_megabytes_is_answered(self):
        rows = [[0.5] for _ in range(400_000)]  # 6 MB as a protobuf ListValue: over grpcio's 4 MiB default
        reply = self.server.seldon("Transformer", "TransformInput", {"data": {"ndarray": rows}})
        self.assertEqual(len(reply["data"]["ndarray"]), 400_000)
        self.assertEqual(reply["data"]["ndarray"][-1], [1.0])

    def test_rest_is_still_served_beside_grpc(self):
        status, body = self.server.post_json("/predict", {"data": {"ndarray": [[0.5]]}})
        self.assertEqual(status, 200)
        self.assertEqual(body["data"]["ndarray"], [[0.5, 0.5]])


class HealthWatchTest(unittest.TestCase):
    """Watch on a host in this process, so the test can stop it."""

    def setUp(self):
        from trantor_runtime.component import Component
        from trantor_runtime.grpc_server import GrpcHost, GrpcOptions

        class Model:
            def predict(self, X, names):
                return X

        self.host = GrpcHost(Component(Model()), GrpcOptions(0, 1 << 20, threads=1))
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % self.host.start("127.0.0.1"))
        self.watch = self.channel.unary_stream("/grpc.health.v1.Health/Watch", request_serializer=HealthRequest.SerializeToString,
                                               response_deserializer=HealthResponse.FromString)

    def tearDown(self):
        self.channel.close()
        self.host.stop(0)

    def test_watch_says_serving_then_not_serving_when_the_server_stops(self):
        updates = self.watch(HealthRequest(service="seldon.protos.Model"), timeout=10)
        self.assertEqual(next(updates).status, HealthResponse.SERVING)
        stopper = threading.Thread(target=self.host.stop, args=(5,))
        stopper.start()
        self.assertEqual(next(updates).status, HealthResponse.NOT_SERVING)
        self.assertEqual(list(updates), [])
        stopper.join()

    def test_watch_of_an_unknown_service_says_so(self):
        self.assertEqual([u.status for u in self.watch(HealthRequest(service="no.Such"), timeout=10)], [HealthResponse.SERVICE_UNKNOWN])

    def test_open_watches_leave_the_calls_served_and_are_bounded(self):
        from trantor_runtime.grpc_server import MAX_STREAMS

        watches = [self.watch(HealthRequest(), timeout=10) for _ in range(MAX_STREAMS)]
        for updates in watches:
            self.assertEqual(next(updates).status, HealthResponse.SERVING)
        reply = call(self.channel, "/seldon.protos.Model/Predict", message({"data": {"ndarray": [[2.0]]}}), SeldonMessage)
        self.assertEqual(to_dict(reply)["data"]["ndarray"], [[2.0]])
        with self.assertRaises(grpc.RpcError) as caught:
            next(self.watch(HealthRequest(), timeout=10))
        self.assertEqual(caught.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        for updates in watches:
            updates.cancel()


class ModelErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = GrpcServer("contract_models.Picky", args=("--grpc-max-message-size", "65536"))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def assert_status(self, value, code, http_status, path="/predict", service="Model", method="Predict"):
        status, body = self.server.post_json(path, value)
        self.assertEqual(status, http_status)
        with self.assertRaises(grpc.RpcError) as caught:
            self.server.seldon(service, method, value)
        self.assertEqual(caught.exception.code(), code)
        self.assertEqual(caught.exception.details(), body["status"]["info"])
        return caught.exception.details()

    def test_a_model_exception_is_internal_with_rests_message(self):
        details = self.assert_status({"data": {"ndarray": [[-1.0]]}}, grpc.StatusCode.INTERNAL, 500)
        self.assertIn("ValueError: cannot score negative values", details)

    def test_a_models_own_4xx_is_invalid_argument(self):
        self.assert_status({"data": {"ndarray": [[99.0]]}}, grpc.StatusCode.INVALID_ARGUMENT, 422)
        self.assert_status({"data": {"ndarray": [[77.0]]}}, grpc.StatusCode.INVALID_ARGUMENT, 400)

    def test_a_method_the_class_lacks_is_unimplemented(self):
        details = self.assert_status({"data": {"ndarray": [[1.0]]}}, grpc.StatusCode.UNIMPLEMENTED, 400, "/route", "Router", "Route")
        self.assertIn("no route method", details)

    def test_a_message_over_the_limit_is_resource_exhausted(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.server.seldon("Model", "Predict", {"strData": "x" * 70_000})
        self.assertEqual(caught.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertEqual(self.server.seldon("Model", "Predict", {"data": {"ndarray": [[1.0]]}})["data"]["ndarray"], [[1.0]])


class StartupTest(unittest.TestCase):
    def test_the_environments_port_serves_grpc(self):
        port = free_port()
        server = Server("wrapper_models.WhichProcess", env={"PREDICTIVE_UNIT_GRPC_SERVICE_PORT": str(port)})
        try:
            with grpc.insecure_channel("127.0.0.1:%d" % port) as channel:
                reply = to_dict(call(channel, "/seldon.protos.Model/Predict", message({"data": {"ndarray": [1.0]}}), SeldonMessage))
            self.assertEqual(reply["jsonData"]["pid"], server.process.pid)
            self.assertIn("gRPC at 127.0.0.1:%d" % port, "".join(server.stderr_lines))
        finally:
            server.stop()

    def test_every_worker_answers_grpc(self):
        server = GrpcServer("wrapper_models.WhichProcess", args=("--workers", "2"))
        try:
            pids = set()
            for _ in range(60):
                with grpc.insecure_channel("127.0.0.1:%d" % server.grpc_port) as channel:
                    reply = to_dict(call(channel, "/seldon.protos.Model/Predict", message({"data": {"ndarray": [1.0]}}), SeldonMessage))
                pids.add(reply["jsonData"]["pid"])
                if len(pids) == 2:
                    break
            self.assertEqual(len(pids), 2, "one process answered every connection")
        finally:
            server.stop()

    def test_grpc_calls_are_counted_on_the_metrics_port_with_the_models_metrics(self):
        metrics_port = free_port()
        server = GrpcServer("wrapper_models.WhichProcess", args=("--metrics-port", str(metrics_port)))
        try:
            server.seldon("Model", "Predict", {"data": {"ndarray": [1.0]}})
            with self.assertRaises(grpc.RpcError):
                server.seldon("Model", "Predict", {"data": {"tensor": {"shape": [2], "values": [1.0]}}})
            # One process: the metrics port reads its numbers directly, no flush to wait for.
            conn = http.client.HTTPConnection("127.0.0.1", metrics_port, timeout=5)
            conn.request("GET", "/prometheus")
            text = conn.getresponse().read().decode()
            conn.close()
            self.assertRegex(text, r'trantor_component_requests_total\{[^}]*path="/seldon.protos.Model/Predict"[^}]*code="200"')
            self.assertRegex(text, r'trantor_component_requests_total\{[^}]*path="/seldon.protos.Model/Predict"[^}]*code="400"')
            self.assertIn("mycounter", text)
        finally:
            server.stop()

    def test_grpc_workers_zero_serves_no_grpc(self):
        port = free_port()
        server = Server("wrapper_models.WhichProcess", args=("--grpc-port", str(port), "--grpc-workers", "0"))
        try:
            self.assertNotIn("gRPC at", "".join(server.stderr_lines))
        finally:
            server.stop()

    def test_a_bad_grpc_flag_stops_the_start(self):
        result = run_to_exit(microservice_command("wrapper_models.WhichProcess", "--grpc-port", "0", "--grpc-threads", "many"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("--grpc-threads: expected a whole number, got 'many'", result.stderr)

    def test_a_grpc_port_in_use_stops_the_start(self):
        import socket

        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = str(taken.getsockname()[1])
            for workers in ("1", "2"):
                with self.subTest(workers=workers):
                    result = run_to_exit(microservice_command("wrapper_models.WhichProcess", "--grpc-port", port, "--workers", workers))
                    self.assertEqual(result.returncode, 1)
                    self.assertIn("cannot serve gRPC on 127.0.0.1:" + port, result.stderr)
                    self.assertNotIn("trantor_runtime: serving", result.stdout)

    def test_the_same_port_for_http_and_grpc_is_refused(self):
        port = str(free_port())
        result = run_to_exit(microservice_command("wrapper_models.WhichProcess", "--http-port", port, "--grpc-port", port))
        self.assertEqual(result.returncode, 1)
        self.assertIn("is the HTTP port", result.stderr)


class WithoutGrpcioTest(unittest.TestCase):
    """A Python without grpcio: a package named grpc that cannot be imported stands in for its absence."""

    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="no-grpc-")
        os.mkdir(os.path.join(self.folder, "grpc"))
        with open(os.path.join(self.folder, "grpc", "__init__.py"), "w", encoding="utf-8") as out:
            out.write("raise ImportError('No module named grpc')\n")
        self.env = {"PYTHONPATH": self.folder + os.pathsep + os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_the_flag_without_grpcio_exits_1_saying_what_to_install(self):
        result = run_to_exit(microservice_command("wrapper_models.WhichProcess", "--grpc-port", "0"), env=self.env)
        self.assertEqual(result.returncode, 1)
        self.assertIn("gRPC needs grpcio and protobuf: pip install grpcio protobuf", result.stderr)

    def test_the_environment_without_grpcio_warns_and_serves_rest(self):
        env = dict(self.env, PREDICTIVE_UNIT_GRPC_SERVICE_PORT=str(free_port()))
        server = Server("wrapper_models.WhichProcess", env=env)
        try:
            status, _ = server.post_json("/predict", {"data": {"ndarray": [1]}})
            self.assertEqual(status, 200)
            warnings = [line for line in server.stderr_lines if "WARNING" in line]
            self.assertEqual(len(warnings), 1, warnings)
            self.assertIn("pip install grpcio protobuf", warnings[0])
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
