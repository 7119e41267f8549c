"""minigrad.onnx.export: every exportable registry model (tiny sizes) written to ONNX, run in
onnxruntime at another batch size (the dynamic axis), and compared with minigrad's logits;
the tracer's edge cases (in-place ops, constants, shape-dependent constants, unsupported
ops, the model's mode)."""
import io

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import function as function_module
from minigrad.onnx import UnsupportedOperatorError, export, is_in_onnx_export

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _tiny(name):
    from minigrad_models.cnn import SeedCNN
    from minigrad_models.gpt import GPT, GPTConfig
    from minigrad_models.autoencoder import ConvAutoencoder
    from minigrad_models.mlp import SeedBinaryMLP, SeedMLP
    from minigrad_models.resnet import SmallResNet
    return {"mlp": lambda: SeedMLP(hidden=(16, 8)),
            "binary-mlp": lambda: SeedBinaryMLP(hidden=(16, 8)),
            "cnn": lambda: SeedCNN(dense=8),
            "resnet-small": lambda: SmallResNet(widths=(4, 8, 8)),
            "autoencoder": lambda: ConvAutoencoder(latent_dim=3, width=4),
            "gpt": lambda: GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2,
                                         n_embd=16, dropout=0.0, bias=True))}[name]()


def _inputs(name, batch):
    if name == "gpt":
        return mg.randint(0, 11, (batch, 8))
    return mg.randn(batch, 1, 28, 28)


def _run(model_bytes, x, name="input"):
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return session.run(None, {name: x.numpy()})


def _reference(model, x):
    model.eval()
    with mg.no_grad():
        out = model(x)
    return (out[0] if isinstance(out, tuple) else out).numpy()


@pytest.mark.parametrize("name", ["mlp", "binary-mlp", "cnn", "resnet-small", "autoencoder",
                                  "gpt"])
def test_registry_model_matches_onnxruntime_at_another_batch_size(name):
    mg.manual_seed(0)
    model = _tiny(name)
    buffer = io.BytesIO()
    export(model, (_inputs(name, 2),), buffer, input_names=["input"], output_names=["logits"],
           dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load_from_string(buffer.getvalue())
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert {i.name for i in proto.graph.initializer} >= {k for k, _ in model.named_parameters()}
    x = _inputs(name, 5)
    (got,) = _run(buffer.getvalue(), x)
    np.testing.assert_allclose(got, _reference(model, x), rtol=1e-4, atol=1e-5)


def test_opset_18_and_a_file_path(tmp_path):
    mg.manual_seed(1)
    model = _tiny("resnet-small")
    path = tmp_path / "resnet.onnx"
    export(model, mg.randn(2, 1, 28, 28), path, opset_version=18)
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == 18
    x = mg.randn(2, 1, 28, 28)
    np.testing.assert_allclose(_run(str(path), x)[0], _reference(model, x), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="opset_version"):
        export(model, mg.randn(2, 1, 28, 28), io.BytesIO(), opset_version=11)


class InPlace(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        y = self.fc(x) * 2.0
        y.add_(1.0)
        return y.relu() + mg.arange(3, dtype=mg.float32)


def test_in_place_ops_and_forward_constants_are_traced():
    mg.manual_seed(2)
    model = InPlace()
    buffer = io.BytesIO()
    export(model, mg.randn(4, 3), buffer, dynamic_axes={"input": [0], "output": [0]})
    x = mg.randn(7, 3)
    np.testing.assert_allclose(_run(buffer.getvalue(), x)[0], _reference(model, x), rtol=1e-5,
                               atol=1e-6)
    assert function_module._tracers == []


class BatchSizedConstant(nn.Module):
    def forward(self, x):
        return x + mg.ones(x.shape[0], 1)


def test_a_constant_built_from_a_dynamic_axis_is_refused():
    with pytest.raises(RuntimeError, match="dynamic axis"):
        export(BatchSizedConstant(), mg.randn(2, 3), io.BytesIO(),
               dynamic_axes={"input": {0: "batch"}})
    export(BatchSizedConstant(), mg.randn(2, 3), io.BytesIO())    # static: fine


class Cumulative(nn.Module):
    def forward(self, x):
        return x.cumsum(1)


def test_unsupported_op_is_named():
    with pytest.raises(UnsupportedOperatorError, match="CumSum|Cumsum|cumsum"):
        export(Cumulative(), mg.randn(2, 3), io.BytesIO())
    assert function_module._tracers == []


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = []
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        self.seen.append((is_in_onnx_export(), self.training))
        return self.fc(x)


def test_export_runs_in_eval_mode_and_restores_the_mode():
    model = Probe()
    model.train()
    export(model, mg.randn(1, 2), io.BytesIO())
    assert model.seen == [(True, False)] and model.training and not is_in_onnx_export()
    with pytest.raises(ValueError, match="output_names"):
        export(model, mg.randn(1, 2), io.BytesIO(), output_names=["a", "b"])
    with pytest.raises(ValueError, match="export_params"):
        export(model, mg.randn(1, 2), io.BytesIO(), export_params=False)


def test_export_command_checks_onnxruntime(tmp_path, capsys, monkeypatch):
    from minigrad_models.train import plots
    from minigrad_models.train.cli import main
    monkeypatch.setattr(plots, "write_run_plots", lambda *a, **k: None)
    run = tmp_path / "mlp"
    assert main(["train", "mlp", "--subset", "64", "--epochs", "1", "--eval-samples", "64",
                 "--out", str(run), "--no-progress",
                 "--model-arg", "hidden=[16, 8]"]) == 0
    capsys.readouterr()
    path = tmp_path / "mlp.onnx"
    assert main(["export", "mlp", "--checkpoint", str(run), "--onnx", str(path),
                 "--check-samples", "32"]) == 0
    out = capsys.readouterr().out
    assert "exported to" in out and "same prediction 100.00%" in out
    difference = float(out.split("max |logit difference| ")[1].split(",")[0])
    assert difference < 1e-4
    assert onnx.load(str(path)).graph.output[0].name == "logits"
    assert main(["export", "lstm", "--checkpoint", str(run), "--onnx", str(path)]) == 2


class BadInPlace(nn.Module):
    def forward(self, x):
        y = x.long()
        y.add_(x)          # float into int64: refused in place, traced or not
        return y


def test_in_place_checks_hold_during_a_trace():
    with pytest.raises(RuntimeError, match="can't be cast"):
        export(BadInPlace(), mg.randn(2, 3), io.BytesIO())
    assert function_module._tracers == []
