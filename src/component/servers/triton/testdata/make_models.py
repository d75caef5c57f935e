"""Writes the Triton repository the TRITON_SERVER datatype tests serve (run with a Python that has `onnx`).

types/types/1/model.onnx: three inputs of the datatypes JSON and V2 treat specially, each answered
through one ONNX op, so a test sees every conversion both ways —
  text  string  [-1]  -> text_out  = Identity(text)
  half  float16 [-1]  -> half_out  = half + half
  flag  bool    [-1]  -> flag_out  = Not(flag)
"""
from pathlib import Path

import onnx
from onnx import TensorProto, helper

graph = helper.make_graph(
    nodes=[
        helper.make_node("Identity", ["text"], ["text_out"]),
        helper.make_node("Add", ["half", "half"], ["half_out"]),
        helper.make_node("Not", ["flag"], ["flag_out"]),
    ],
    name="types",
    inputs=[
        helper.make_tensor_value_info("text", TensorProto.STRING, ["n"]),
        helper.make_tensor_value_info("half", TensorProto.FLOAT16, ["m"]),
        helper.make_tensor_value_info("flag", TensorProto.BOOL, ["k"]),
    ],
    outputs=[
        helper.make_tensor_value_info("text_out", TensorProto.STRING, ["n"]),
        helper.make_tensor_value_info("half_out", TensorProto.FLOAT16, ["m"]),
        helper.make_tensor_value_info("flag_out", TensorProto.BOOL, ["k"]),
    ],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="trantor-tests")
model.ir_version = 8
onnx.checker.check_model(model)
out = Path(__file__).resolve().parent / "types" / "types" / "1" / "model.onnx"
out.parent.mkdir(parents=True, exist_ok=True)
onnx.save(model, out)
print(f"wrote {out}")
