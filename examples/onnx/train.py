"""Trains a small iris classifier and writes it as a Triton model repository served by TRITON_SERVER.

    python train.py            # writes model-repository/iris/1/model.onnx and model-repository/iris/config.pbtxt

Needs scikit-learn, skl2onnx and onnx. The classifier is converted with zipmap=False, so its
probabilities are one float tensor (not a list of maps), which the Open Inference Protocol carries.
"""
from pathlib import Path

from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE / "model-repository"

CONFIG = """name: "iris"
platform: "onnxruntime_onnx"
max_batch_size: 0
input [
  {
    name: "float_input"
    data_type: TYPE_FP32
    dims: [ -1, 4 ]
  }
]
output [
  {
    name: "label"
    data_type: TYPE_INT64
    dims: [ -1 ]
  },
  {
    name: "probabilities"
    data_type: TYPE_FP32
    dims: [ -1, 3 ]
  }
]
version_policy: { latest: { num_versions: 1 } }
"""


def main() -> None:
    X, y = load_iris(return_X_y=True)
    classifier = LogisticRegression(max_iter=1000, random_state=0).fit(X, y)
    onnx_model = to_onnx(
        classifier,
        initial_types=[("float_input", FloatTensorType([None, 4]))],
        options={id(classifier): {"zipmap": False}},
        target_opset=15,
    )
    version = REPOSITORY / "iris" / "1"
    version.mkdir(parents=True, exist_ok=True)
    (version / "model.onnx").write_bytes(onnx_model.SerializeToString())
    (REPOSITORY / "iris" / "config.pbtxt").write_text(CONFIG)
    print(f"wrote {version / 'model.onnx'} and {REPOSITORY / 'iris' / 'config.pbtxt'}")


if __name__ == "__main__":
    main()
