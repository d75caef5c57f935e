"""Writes the small ONNX models the ONNX runner's tests load (run with a Python that has `onnx`).

affine.onnx: Y = X · W + B for X float32 [batch, 3], W a fixed 3×2 matrix, B [1, 2];
also L = Cast(ArgMax(Y)) as int64 [batch], so a test sees two outputs of two element types.
"""
import onnx
from onnx import TensorProto, helper

W = [1.0, -1.0, 0.5, 2.0, -0.25, 0.0]
B = [0.5, -0.5]

graph = helper.make_graph(
    nodes=[
        helper.make_node("MatMul", ["X", "W"], ["XW"]),
        helper.make_node("Add", ["XW", "B"], ["Y"]),
        helper.make_node("ArgMax", ["Y"], ["L"], axis=1, keepdims=0),
    ],
    name="affine",
    inputs=[helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", 3])],
    outputs=[
        helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["batch", 2]),
        helper.make_tensor_value_info("L", TensorProto.INT64, ["batch"]),
    ],
    initializer=[
        helper.make_tensor("W", TensorProto.FLOAT, [3, 2], W),
        helper.make_tensor("B", TensorProto.FLOAT, [1, 2], B),
    ],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="trantor-tests")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "affine.onnx")
