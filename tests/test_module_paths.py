"""The import paths and small namespaces real PyTorch programs use: ``nn.modules.*``,
``nn.parallel.DataParallel``, ``accelerator``, ``backends.cudnn``/``mps``,
``use_deterministic_algorithms``, ``onnx`` (its exporter: tests/onnx)."""
import importlib

import pytest

import minigrad as mg
from minigrad import nn


@pytest.mark.parametrize("path,name,target", [
    ("container", "Sequential", nn.Sequential), ("container", "ModuleList", nn.ModuleList),
    ("container", "ModuleDict", nn.ModuleDict), ("module", "Module", nn.Module),
    ("activation", "MultiheadAttention", nn.MultiheadAttention),
    ("activation", "ReLU", nn.ReLU), ("linear", "Linear", nn.Linear),
    ("loss", "CrossEntropyLoss", nn.CrossEntropyLoss), ("conv", "Conv2d", nn.Conv2d),
    ("batchnorm", "BatchNorm2d", nn.BatchNorm2d), ("flatten", "Flatten", nn.Flatten),
    ("rnn", "LSTM", nn.LSTM), ("sparse", "Embedding", nn.Embedding),
    ("transformer", "TransformerEncoderLayer", nn.TransformerEncoderLayer)])
def test_nn_modules_paths(path, name, target):
    module = importlib.import_module(f"minigrad.nn.modules.{path}")
    assert getattr(module, name) is target


def test_non_dynamically_quantizable_linear():
    from minigrad.nn.modules.linear import NonDynamicallyQuantizableLinear
    assert issubclass(NonDynamicallyQuantizableLinear, nn.Linear)
    assert not hasattr(nn, "NonDynamicallyQuantizableLinear")      # as in PyTorch
    mha = nn.MultiheadAttention(4, 2)
    assert type(mha.out_proj) is NonDynamicallyQuantizableLinear


def test_data_parallel_on_one_device():
    torch = pytest.importorskip("torch")
    model = nn.Linear(3, 2)
    wrapped = nn.DataParallel(model)
    assert wrapped.module is model and nn.parallel.DataParallel is nn.DataParallel
    x = mg.randn(5, 3)
    assert wrapped(x).tolist() == model(x).tolist()
    assert list(wrapped.state_dict()) == list(
        torch.nn.DataParallel(torch.nn.Linear(3, 2)).state_dict())   # "module." prefix
    if not mg.cuda.is_available():
        assert wrapped.device_ids == [] and wrapped.output_device is None
    assert nn.parallel.DistributedDataParallel is nn.parallel.distributed.DistributedDataParallel


def test_accelerator_matches_pytorch_without_a_gpu():
    if mg.cuda.is_available():
        assert mg.accelerator.is_available()
        assert mg.accelerator.current_accelerator() == mg.device("cuda")
        assert mg.accelerator.device_count() >= 1
        return
    assert mg.accelerator.is_available() is False
    assert mg.accelerator.current_accelerator() is None
    assert mg.accelerator.device_count() == 0
    assert mg.accelerator.current_device_index() == 0
    with pytest.raises(RuntimeError, match="no accelerator"):
        mg.accelerator.set_device_index(0)
    with mg.accelerator.device_index(None):
        pass
    mg.accelerator.synchronize()


def test_backends_flags():
    cudnn = importlib.import_module("minigrad.backends.cudnn")
    assert cudnn.is_available() is False and cudnn.version() is None
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (True, False, False)
    cudnn.benchmark = True
    try:
        assert mg.backends.cudnn.benchmark is True
    finally:
        cudnn.benchmark = False
    assert mg.backends.mps.is_available() is False and mg.backends.mps.is_built() is False


def test_use_deterministic_algorithms():
    assert mg.are_deterministic_algorithms_enabled() is False
    mg.use_deterministic_algorithms(True, warn_only=True)
    try:
        assert mg.are_deterministic_algorithms_enabled() is True
        assert mg.is_deterministic_algorithms_warn_only_enabled() is True
    finally:
        mg.use_deterministic_algorithms(False)
    assert mg.are_deterministic_algorithms_enabled() is False
    with pytest.raises(TypeError):
        mg.use_deterministic_algorithms("yes")


def test_onnx_is_importable_without_the_onnx_package():
    import minigrad.onnx
    assert minigrad.onnx.is_in_onnx_export() is False
    assert callable(minigrad.onnx.export)


def test_nn_modules_utils_match_pytorch():
    torch = pytest.importorskip("torch")
    from torch.nn.modules import utils as theirs
    from minigrad.nn.modules import utils as ours
    for name in ("_single", "_pair", "_triple", "_quadruple"):
        for value in (3, (1, 2), [4, 5, 6]):
            assert getattr(ours, name)(value) == getattr(theirs, name)(value)
    assert ours._reverse_repeat_tuple((1, 2), 2) == theirs._reverse_repeat_tuple((1, 2), 2)
    wrapped = nn.DataParallel(nn.Linear(2, 2))
    state = wrapped.state_dict()
    ours.consume_prefix_in_state_dict_if_present(state, "module.")
    assert list(state) == ["weight", "bias"]
    plain = nn.Linear(2, 2)
    plain.load_state_dict(state)
    assert plain.weight.tolist() == wrapped.module.weight.tolist()
