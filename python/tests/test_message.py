"""Decoding and encoding Seldon messages, in process."""

import unittest

import numpy as np

from trantor_runtime import MicroserviceError
from trantor_runtime import message
from trantor_runtime.message import decode, encode, to_json_bytes


class DecodeTest(unittest.TestCase):
    def test_ndarray_becomes_a_numpy_array_with_names(self):
        payload = decode({"data": {"names": ["a", "b"], "ndarray": [[1, 2]]}})
        self.assertEqual((payload.X.tolist(), payload.names, payload.kind), ([[1, 2]], ["a", "b"], "ndarray"))

    def test_strings_in_ndarray_keep_object_dtype(self):
        self.assertEqual(decode({"data": {"ndarray": [["a", 1]]}}).X.dtype, object)

    def test_ragged_ndarray_becomes_an_object_array(self):
        self.assertEqual(decode({"data": {"ndarray": [[1, 2], [3]]}}).X.dtype, object)

    def test_tensor_is_reshaped_float64(self):
        X = decode({"data": {"tensor": {"shape": [2, 1], "values": [1, 2]}}}).X
        self.assertEqual((X.dtype, X.shape), (np.float64, (2, 1)))

    def test_tensor_with_strings_is_400(self):
        with self.assertRaises(MicroserviceError) as caught:
            decode({"data": {"tensor": {"shape": [1], "values": ["a"]}}})
        self.assertEqual(caught.exception.message, "data.tensor.values: expected an array of numbers")

    def test_names_that_are_not_a_list_are_400(self):
        with self.assertRaises(MicroserviceError) as caught:
            decode({"data": {"names": "a", "ndarray": [1]}})
        self.assertEqual(caught.exception.message, "data.names: expected an array of strings")

    def test_non_object_message_is_400(self):
        with self.assertRaises(MicroserviceError) as caught:
            decode([1, 2])
        self.assertIn("got an array", caught.exception.message)


class EncodeTest(unittest.TestCase):
    def test_tensor_request_gets_float_tensor_values(self):
        self.assertEqual(
            encode(np.array([[1, 2]]), "tensor", None, "m"),
            {"data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [1.0, 2.0]}}},
        )

    def test_class_names_replace_default_names(self):
        self.assertEqual(encode(np.array([[0.5, 0.5]]), "ndarray", ["x", "y"], "m")["data"]["names"], ["x", "y"])

    def test_list_output_is_encoded_like_an_array(self):
        self.assertEqual(encode([[1, 2]], "ndarray", None, "m"), {"data": {"names": ["t:0", "t:1"], "ndarray": [[1, 2]]}})

    def test_numpy_scalars_inside_json_data_are_written_as_numbers(self):
        self.assertEqual(to_json_bytes({"jsonData": {"n": np.int64(3), "f": np.float32(0.5)}}), b'{"jsonData":{"n":3,"f":0.5}}')

    def test_unsendable_output_is_500(self):
        with self.assertRaises(MicroserviceError) as caught:
            encode(object(), "ndarray", None, "M.predict")
        self.assertEqual(caught.exception.status_code, 500)
        self.assertIn("M.predict returned a object", caught.exception.message)


if __name__ == "__main__":
    unittest.main()


class SeldonReplyEncodingTest(unittest.TestCase):
    """Numbers answering a request that had no data encoding of its own come back as a tensor."""

    def test_numbers_for_str_bin_and_json_data_requests_are_a_tensor(self):
        for kind in (message.STR_DATA, message.BIN_DATA, message.JSON_DATA):
            reply = message.encode(np.array([[0.1, 0.9]]), kind, [], "predict")
            self.assertEqual(reply, {"data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [0.1, 0.9]}}}, kind)
            listed = message.encode([[1, 2]], kind, [], "predict")
            self.assertEqual(listed["data"]["tensor"], {"shape": [1, 2], "values": [1.0, 2.0]}, kind)

    def test_an_ndarray_request_still_gets_an_ndarray(self):
        reply = message.encode(np.array([[0.1, 0.9]]), "ndarray", [], "predict")
        self.assertEqual(reply["data"]["ndarray"], [[0.1, 0.9]])

    def test_nan_is_written_as_python_writes_it(self):
        self.assertEqual(message.to_json_bytes({"v": [float("nan"), float("inf")]}), b'{"v":[NaN,Infinity]}')
