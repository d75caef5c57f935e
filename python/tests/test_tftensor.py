"""data.tftensor: TensorFlow's TensorProto JSON read into numpy arrays and written back, and served over REST."""

import base64
import inspect
import json
import math
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np

from trantor_runtime import MicroserviceError
from trantor_runtime import tftensor
from trantor_runtime.message import decode, encode

from .support import Server

SHAPE_23 = {"dim": [{"size": "2"}, {"size": "3"}]}

# dtype: (value field, six values as JSON gives them, the numpy array a model gets)
CASES = {
    "DT_FLOAT": ("floatVal", [1.5, -2, 0, "NaN", "Infinity", 0.25], np.array([1.5, -2, 0, np.nan, np.inf, 0.25], np.float32)),
    "DT_DOUBLE": ("doubleVal", [0.1, -1e300, 5, "-Infinity", 2, 3], np.array([0.1, -1e300, 5, -np.inf, 2, 3], np.float64)),
    "DT_INT32": ("intVal", [1, -2147483648, 2147483647, 0, 5, -6], np.array([1, -2147483648, 2147483647, 0, 5, -6], np.int32)),
    "DT_UINT8": ("intVal", [0, 255, 1, 2, 3, 4], np.array([0, 255, 1, 2, 3, 4], np.uint8)),
    "DT_INT16": ("intVal", [-32768, 32767, 1, 2, 3, 4], np.array([-32768, 32767, 1, 2, 3, 4], np.int16)),
    "DT_INT8": ("intVal", [-128, 127, 1, 2, 3, 4], np.array([-128, 127, 1, 2, 3, 4], np.int8)),
    "DT_STRING": ("stringVal", ["aGk=", "", "w6k=", "YQ==", "Yg==", "/w=="], np.array([b"hi", b"", "é".encode(), b"a", b"b", b"\xff"], object)),
    "DT_INT64": (
        "int64Val",
        ["-9223372036854775808", "9223372036854775807", "9007199254740993", 1, "-2", 3],
        np.array([-(2**63), 2**63 - 1, 9007199254740993, 1, -2, 3], np.int64),
    ),
    "DT_BOOL": ("boolVal", [True, False, True, True, False, False], np.array([True, False, True, True, False, False])),
    "DT_UINT16": ("intVal", [0, 65535, 1, 2, 3, 4], np.array([0, 65535, 1, 2, 3, 4], np.uint16)),
    # half_val holds the 16 bits: 0x3C00 is 1, 0xC000 -2, 0x7BFF 65504, 0x0001 the smallest subnormal.
    "DT_HALF": ("halfVal", [0x3C00, 0xC000, 0x7BFF, 0x0001, 0, 0x3800], np.array([1, -2, 65504, 2.0**-24, 0, 0.5], np.float16)),
    "DT_UINT32": ("uint32Val", [0, 4294967295, 1, 2, 3, 4], np.array([0, 4294967295, 1, 2, 3, 4], np.uint32)),
    "DT_UINT64": ("uint64Val", ["18446744073709551615", "0", 1, 2, 3, 4], np.array([2**64 - 1, 0, 1, 2, 3, 4], np.uint64)),
}


def snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def assert_same_array(test, got, expected, label):
    test.assertEqual(got.dtype, expected.dtype, label)
    test.assertEqual(got.shape, expected.shape, label)
    test.assertEqual(
        [repr(v) for v in got.ravel().tolist()], [repr(v) for v in expected.ravel().tolist()], label
    )


class ReadTest(unittest.TestCase):
    def test_every_dtype_reads_its_values_in_either_spelling(self):
        self.assertEqual(sorted(CASES), sorted(tftensor.DTYPES))
        for dtype, (field, values, expected) in CASES.items():
            for tensor in (
                {"dtype": dtype, "tensorShape": SHAPE_23, field: values},
                {"dtype": dtype, "tensor_shape": SHAPE_23, snake(field): values},
            ):
                payload = decode({"data": {"names": ["a"], "tftensor": tensor}})
                assert_same_array(self, payload.X, expected.reshape(2, 3), dtype)
                self.assertEqual((payload.kind, payload.field, payload.names), ("tftensor", "data.tftensor", ["a"]))

    def test_tensor_content_gives_the_same_arrays_as_the_val_fields(self):
        for dtype, (_, _, expected) in CASES.items():
            if dtype == "DT_STRING":
                continue
            content = base64.b64encode(expected.astype(expected.dtype.newbyteorder("<")).tobytes()).decode()
            got = tftensor.read({"dtype": dtype, "tensorShape": SHAPE_23, "tensorContent": content})
            assert_same_array(self, got, expected.reshape(2, 3), dtype)

    def test_short_values_fill_the_shape_as_tensorflow_does(self):
        self.assertEqual(tftensor.read({"dtype": "DT_FLOAT", "tensorShape": SHAPE_23, "floatVal": [7]}).tolist(), [[7] * 3] * 2)
        self.assertEqual(tftensor.read({"dtype": "DT_INT32", "tensorShape": SHAPE_23, "intVal": [1, 2]}).tolist(), [[1, 2, 2], [2, 2, 2]])
        self.assertEqual(tftensor.read({"dtype": "DT_BOOL", "tensorShape": {"dim": [{"size": 2}]}}).tolist(), [False, False])
        self.assertEqual(tftensor.read({"dtype": "DT_STRING", "tensorShape": {"dim": [{"size": "2"}]}, "stringVal": ["eA=="]}).tolist(), [b"x", b"x"])
        self.assertEqual(tftensor.read({"dtype": 9, "tensorShape": {"dim": [{"size": "3"}]}, "int64Val": ["9007199254740993"]}).tolist(), [9007199254740993] * 3)
        self.assertEqual(tftensor.read({"dtype": "DT_DOUBLE", "doubleVal": [2.5]}).shape, ())

    def test_bad_tensors_are_400_naming_the_field_as_spelt(self):
        cases = [
            ([], "data.tftensor: expected a TensorProto object"),
            ({"tensorShape": SHAPE_23}, "data.tftensor.dtype: is required"),
            ({"dtype": "DT_COMPLEX64"}, 'data.tftensor.dtype: "DT_COMPLEX64" is not a dtype Trantor reads'),
            ({"dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "2"}, {"size": "x"}]}}, 'data.tftensor.tensor_shape.dim[1].size: expected an integer, got "x"'),
            ({"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "-1"}]}}, "data.tftensor.tensorShape.dim[0].size: expected a size of 0 or more, got -1"),
            ({"dtype": "DT_FLOAT", "tensorShape": {"unknownRank": True}}, "data.tftensor.tensorShape: a tensor value needs a known rank"),
            ({"dtype": "DT_FLOAT", "tensorShape": SHAPE_23, "floatVal": [1, "one"]}, 'data.tftensor.floatVal[1]: expected a number, got "one"'),
            ({"dtype": "DT_FLOAT", "floatVal": [1e39]}, "data.tftensor.floatVal[0]: 1e+39 is beyond the range of a DT_FLOAT"),
            ({"dtype": "DT_UINT8", "int_val": [256]}, "data.tftensor.int_val[0]: 256 is out of range for DT_UINT8 (0 to 255)"),
            ({"dtype": "DT_INT32", "intVal": [1.5]}, "data.tftensor.intVal[0]: expected an integer, got 1.5"),
            ({"dtype": "DT_INT64", "int64Val": ["9223372036854775808"]}, "data.tftensor.int64Val[0]: 9223372036854775808 is out of range for DT_INT64"),
            ({"dtype": "DT_HALF", "halfVal": [65536]}, "data.tftensor.halfVal[0]: 65536 is out of range for DT_HALF (0 to 65535)"),
            ({"dtype": "DT_BOOL", "boolVal": [1]}, "data.tftensor.boolVal[0]: expected true or false, got 1"),
            ({"dtype": "DT_STRING", "stringVal": ["not base64!"]}, "data.tftensor.stringVal[0]: expected base64 bytes"),
            ({"dtype": "DT_STRING", "tensorContent": "AAEC"}, "data.tftensor.tensorContent: a DT_STRING tensor's values go in string_val"),
            ({"dtype": "DT_FLOAT", "floatVal": [1], "doubleVal": [2]}, "data.tftensor.doubleVal: a DT_FLOAT tensor's values go in float_val"),
            ({"dtype": "DT_FLOAT", "floatVal": [1], "float_val": [1]}, "data.tftensor: floatVal and float_val are the same field; give one"),
            ({"dtype": "DT_FLOAT", "floatVal": [1], "tensor_content": "AACAPw=="}, "data.tftensor: give the values in one of tensor_content or floatVal, not both"),
            ({"dtype": "DT_FLOAT", "tensorShape": SHAPE_23, "tensorContent": "AACAPw=="}, "data.tftensor.tensorContent: 4 bytes of data, but 6 DT_FLOAT elements take 24"),
            ({"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "1"}]}, "floatVal": [1, 2]}, "data.tftensor.floatVal: 2 values, but shape [1] holds 1"),
            ({"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "100000000"}]}, "floatVal": [1]}, "data.tftensor.floatVal: 1 values would fill shape [100000000]"),
            ({"dtype": "DT_FLOAT", "floatVals": [1]}, "data.tftensor.floatVals: is not a field of TensorProto"),
            ({"dtype": "DT_FLOAT", "floatVal": 1}, "data.tftensor.floatVal: expected an array"),
        ]
        for tensor, expected in cases:
            with self.assertRaises(MicroserviceError, msg=json.dumps(tensor)) as caught:
                decode({"data": {"tftensor": tensor}})
            self.assertEqual(caught.exception.status_code, 400)
            self.assertTrue(caught.exception.message.startswith(expected), caught.exception.message)


class WriteTest(unittest.TestCase):
    def test_what_is_written_reads_back_the_same_for_every_dtype(self):
        for dtype, (_, _, expected) in CASES.items():
            written = tftensor.write(expected.reshape(2, 3))
            self.assertEqual(written["dtype"], dtype)
            self.assertEqual(written["tensorShape"], SHAPE_23)
            self.assertEqual("tensorContent" in written, dtype not in ("DT_STRING", "DT_BOOL", "DT_UINT16"), dtype)
            assert_same_array(self, tftensor.read(json.loads(json.dumps(written))), expected.reshape(2, 3), dtype)

    def test_a_single_value_goes_in_its_field_as_message_to_json_writes_it(self):
        self.assertEqual(tftensor.write(np.array(2**63 - 1)), {"dtype": "DT_INT64", "tensorShape": {}, "int64Val": ["9223372036854775807"]})
        self.assertEqual(tftensor.write(np.array([math.nan])), {"dtype": "DT_DOUBLE", "tensorShape": {"dim": [{"size": "1"}]}, "doubleVal": ["NaN"]})
        self.assertEqual(tftensor.write(np.array(["é"])), {"dtype": "DT_STRING", "tensorShape": {"dim": [{"size": "1"}]}, "stringVal": ["w6k="]})
        self.assertEqual(tftensor.write(np.zeros((0, 2), np.float16)), {"dtype": "DT_HALF", "tensorShape": {"dim": [{}, {"size": "2"}]}})

    def test_a_tftensor_request_is_answered_with_one_unless_no_dtype_fits(self):
        reply = encode(np.array([[0.25, 0.75]]), "tftensor", None, "m")
        self.assertEqual(reply["data"]["names"], ["t:0", "t:1"])
        self.assertEqual(tftensor.read(reply["data"]["tftensor"]).tolist(), [[0.25, 0.75]])
        self.assertEqual(encode(np.array([[1j]]), "tftensor", None, "m"), {"data": {"names": ["t:0"], "ndarray": [[1j]]}})
        self.assertEqual(encode([[{"a": 1}]], "tftensor", None, "m")["data"]["ndarray"], [[{"a": 1}]])


# Run in TRANTOR_SELDON_PYTHON (which has TensorFlow), after parity_array's source: stdin {"arrays": {name: [dtype, shape, values]},
# "tensors": {name: TensorProto JSON}}; stdout what make_tensor_proto writes for each array (as
# MessageToJson) and what make_ndarray reads from each tensor.
TF_PROBE = r'''
import json, sys
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from seldon_core.proto.tensorflow.core.framework import tensor_pb2

cases = json.load(sys.stdin)
written = {k: json.loads(json_format.MessageToJson(tf.make_tensor_proto(parity_array(v)))) for k, v in cases["arrays"].items()}
read = {}
for k, v in cases["tensors"].items():
    a = tf.make_ndarray(json_format.ParseDict(v, tensor_pb2.TensorProto()))
    read[k] = [str(a.dtype), list(a.shape), [x.hex() if isinstance(x, bytes) else repr(x) for x in a.ravel().tolist()]]
print(json.dumps({"written": written, "read": read}))
'''

PARITY_ARRAYS = {
    "float32": ["float32", [2, 3], [1.5, -2, 0.1, "nan", "inf", 3]],
    "float64 one": ["float64", [1], [0.1]],
    "float64 scalar": ["float64", [], [2.5]],
    "int64": ["int64", [2], [9007199254740993, -9223372036854775808]],
    "int64 one": ["int64", [1], [9007199254740993]],
    "int32 one": ["int32", [1], [7]],
    "uint8": ["uint8", [2], [0, 255]],
    "int8": ["int8", [2], [-128, 3]],
    "int16": ["int16", [2], [1, 2]],
    "uint16": ["uint16", [2], [1, 65535]],
    "float16": ["float16", [2], [1, 0.5]],
    "float16 one": ["float16", [1], [65504]],
    "uint32": ["uint32", [2], [1, 4294967295]],
    "uint64": ["uint64", [2], [1, 18446744073709551615]],
    "uint64 one": ["uint64", [1], [18446744073709551615]],
    "bool": ["bool", [2, 2], [True, False, False, True]],
    "bytes": ["bytes", [2], ["6869", "ff"]],
    "empty": ["float32", [0, 2], []],
}

PARITY_TENSORS = {
    "one value fills the shape": {"dtype": "DT_FLOAT", "tensorShape": SHAPE_23, "floatVal": [7]},
    "the last value repeats": {"dtype": "DT_INT32", "tensorShape": SHAPE_23, "intVal": [1, 2]},
    "no values are zeros": {"dtype": "DT_DOUBLE", "tensorShape": SHAPE_23},
    "halves as bits": {"dtype": "DT_HALF", "tensorShape": {"dim": [{"size": "3"}]}, "halfVal": [15360, 49152, 1]},
    "int64 as strings": {"dtype": "DT_INT64", "tensorShape": {"dim": [{"size": "2"}]}, "int64Val": ["9007199254740993", "-9223372036854775808"]},
    "snake_case content": {"dtype": "DT_UINT16", "tensor_shape": {"dim": [{"size": "2"}]}, "tensor_content": "AQD//w=="},
    "strings": {"dtype": "DT_STRING", "tensorShape": {"dim": [{"size": "3"}]}, "stringVal": ["aGk=", "/w=="]},
    "bools": {"dtype": 10, "tensorShape": {"dim": [{"size": "3"}]}, "boolVal": [True, False]},
    "a dim without size": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{}, {"size": "2"}]}},
}


def parity_array(spec):
    dtype, shape, values = spec
    if dtype == "bytes":
        out = np.empty(len(values), dtype=object)
        out[:] = [bytes.fromhex(v) for v in values]
        return out.reshape(shape)
    return np.array([float(v) if isinstance(v, str) else v for v in values], dtype=dtype).reshape(shape)


class TensorFlowParityTest(unittest.TestCase):
    """What TensorFlow writes for the same arrays, and reads from the same tensors, in the python
    TRANTOR_SELDON_PYTHON names (.ci/run installs tensorflow-cpu there): skipped without it outside CI."""

    @classmethod
    def setUpClass(cls):
        python = os.environ.get("TRANTOR_SELDON_PYTHON", "")
        ci = os.environ.get("CI", "") not in ("", "false")
        if not python:
            if ci:
                raise AssertionError("TRANTOR_SELDON_PYTHON is not set: .ci/run installs Seldon's venv with TensorFlow")
            raise unittest.SkipTest("TRANTOR_SELDON_PYTHON is not set (a python with seldon-core 1.18.2 and tensorflow-cpu; run .ci/run once)")
        cases = json.dumps({"arrays": PARITY_ARRAYS, "tensors": PARITY_TENSORS})
        probe = inspect.getsource(parity_array) + TF_PROBE
        done = subprocess.run([python, "-c", probe], input=cases, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        if done.returncode != 0:
            if "No module named 'tensorflow'" in done.stderr and not ci:
                raise unittest.SkipTest(python + " has no TensorFlow (run .ci/run once)")
            raise AssertionError(python + " failed:\n" + done.stderr)
        cls.tensorflow = json.loads(done.stdout)

    def test_replies_are_written_as_make_tensor_proto_and_message_to_json_write_them(self):
        for name, spec in PARITY_ARRAYS.items():
            self.assertEqual(tftensor.write(parity_array(spec)), self.tensorflow["written"][name], name)

    def test_tensors_read_as_make_ndarray_reads_them(self):
        for name, tensor in PARITY_TENSORS.items():
            ours = tftensor.read(tensor)
            got = [str(ours.dtype), list(ours.shape), [x.hex() if isinstance(x, bytes) else repr(x) for x in ours.ravel().tolist()]]
            self.assertEqual(got, self.tensorflow["read"][name], name)


MODEL = '''
import numpy as np


class RowStats:
    """Each row's sum and mean, as float64; names ["echo"] sends X back as it came."""

    def predict(self, X, features_names):
        if list(features_names) == ["echo"]:
            return X
        X = np.asarray(X, dtype=np.float64)
        return np.column_stack([X.sum(axis=1), X.mean(axis=1)])
'''

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3]]


class RestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        with open(os.path.join(cls.dir, "RowStats.py"), "w") as f:
            f.write(MODEL)
        try:
            cls.server = Server("RowStats", cwd=cls.dir)
        except BaseException:
            shutil.rmtree(cls.dir)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.dir)

    def predict(self, data):
        status, reply = self.server.post_json("/predict", {"data": data})
        self.assertEqual(status, 200, reply)
        return reply["data"]

    def test_a_tftensor_gets_a_tftensor_of_the_numbers_the_ndarray_gets(self):
        shape = {"dim": [{"size": "2"}, {"size": "4"}]}
        floats = base64.b64encode(np.array(ROWS, np.float32).tobytes()).decode()
        for tensor in (
            {"dtype": "DT_FLOAT", "tensorShape": shape, "tensorContent": floats},
            {"dtype": "DT_DOUBLE", "tensor_shape": shape, "double_val": sum(ROWS, [])},
            {"dtype": "DT_INT32", "tensorShape": shape, "intVal": list(range(8))},
        ):
            rows = tftensor.read(tensor).tolist()
            expected = self.predict({"names": list("abcd"), "ndarray": rows})
            got = self.predict({"names": list("abcd"), "tftensor": tensor})
            self.assertEqual(got["names"], expected["names"])
            self.assertEqual(got["tftensor"]["dtype"], "DT_DOUBLE")
            self.assertEqual(tftensor.read(got["tftensor"]).tolist(), expected["ndarray"])

    def test_the_class_gets_the_tensors_dtype_and_it_comes_back_exactly(self):
        for tensor in (
            {"dtype": "DT_UINT8", "tensorShape": {"dim": [{"size": "3"}]}, "intVal": [0, 7, 255]},
            {"dtype": "DT_INT64", "tensorShape": {"dim": [{"size": "2"}]}, "int64Val": ["9007199254740993", "-9223372036854775808"]},
            {"dtype": "DT_STRING", "tensorShape": {"dim": [{"size": "2"}]}, "stringVal": ["aGk=", "w6k="]},
        ):
            got = self.predict({"names": ["echo"], "tftensor": tensor})["tftensor"]
            assert_same_array(self, tftensor.read(got), tftensor.read(tensor), tensor["dtype"])

    def test_a_bad_tftensor_is_400_naming_the_field(self):
        status, reply = self.server.post_json("/predict", {"data": {"tftensor": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "two"}]}}}})
        self.assertEqual(status, 400)
        self.assertEqual(reply["status"]["info"], 'data.tftensor.tensorShape.dim[0].size: expected an integer, got "two"')


if __name__ == "__main__":
    unittest.main()
