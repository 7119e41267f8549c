"""mg.save / mg.load: bit-exact round trips of tensors, state dicts, optimizer and scheduler
state and nested containers; atomic writes; refusal of anything that would need pickle."""
import io
import math
import os
import pickle
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import nn, optim


def round_trip(obj, tmp_path=None):
    if tmp_path is None:
        buffer = io.BytesIO()
        mg.save(obj, buffer)
        buffer.seek(0)
        return mg.load(buffer)
    path = tmp_path / "obj.pt"
    mg.save(obj, path)
    return mg.load(path)


def assert_same_tensor(a, b):
    assert type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
    assert a.requires_grad == b.requires_grad
    assert a.numpy(force=True).tobytes() == b.numpy(force=True).tobytes()   # bit-exact


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32", "int8",
                                   "uint8", "int16", "bool"])
def test_tensors_round_trip_bit_exactly(dtype, tmp_path):
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 4)) * 1e3
    t = mg.tensor(values.astype(dtype))
    assert_same_tensor(round_trip(t, tmp_path), t)
    if dtype.startswith("float"):
        special = mg.tensor(np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324], dtype=dtype))
        assert_same_tensor(round_trip(special), special)
        p = nn.Parameter(t)
        assert_same_tensor(round_trip(p), p)


def test_shapes_layouts_and_requires_grad():
    for t in [mg.tensor(3.5), mg.zeros(0, 3), mg.randn(4, 5).T, mg.randn(2, 3, requires_grad=True)]:
        loaded = round_trip(t)
        assert_same_tensor(loaded, t)
        loaded.add_(1) if not loaded.requires_grad else None     # loaded arrays are writable


def test_nested_python_values_round_trip():
    obj = {"a": [1, -2 ** 70, 2.5, float("nan"), -0.0, math.inf, None, True, False, "text", ""],
           3: ("tuple", (1, 2)), 1.5: OrderedDict([("z", 1), ("a", 2)]), None: Counter({4: 2}),
           (1, "k"): mg.Size([2, 3]), True: {"deep": [[[]]]}, "c": Counter("abca"),
           "np": [np.arange(5, dtype=np.uint16), np.float32(1.25), np.int64(-3), np.bool_(True),
                  np.array(["ab", "c"])]}
    loaded = round_trip(obj)
    assert list(loaded) == list(obj)
    a = loaded["a"]
    assert a[0] == 1 and a[1] == -2 ** 70 and math.isnan(a[3]) and math.copysign(1, a[4]) == -1
    assert a[5:] == [math.inf, None, True, False, "text", ""] and type(a[7]) is bool
    assert loaded[3] == ("tuple", (1, 2)) and type(loaded[1.5]) is OrderedDict
    assert list(loaded[1.5]) == ["z", "a"] and type(loaded[None]) is Counter
    assert type(loaded[(1, "k")]) is mg.Size and loaded[True] == {"deep": [[[]]]}
    assert loaded["c"] == Counter("abca") and loaded[None] == Counter({4: 2})
    arr, f32, i64, b, strings = loaded["np"]
    assert arr.dtype == np.uint16 and arr.tolist() == [0, 1, 2, 3, 4]
    assert type(f32) is np.float32 and f32 == 1.25 and type(i64) is np.int64 and i64 == -3
    assert type(b) is np.bool_ and strings.tolist() == ["ab", "c"]


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda kids: st.lists(kids, max_size=3) | st.tuples(kids, kids)
    | st.dictionaries(st.text(max_size=3) | st.integers(), kids, max_size=3),
    max_leaves=12)


@given(json_like)
def test_arbitrary_nested_values_round_trip(obj):
    assert round_trip(obj) == obj


def test_model_state_dict_and_shared_arrays(tmp_path):
    model = nn.Sequential(nn.Module(), nn.Module())
    model[0].weight = nn.Parameter(mg.randn(3, 2))
    model[1].weight = model[0].weight                       # tied
    model[1].register_buffer("count", mg.tensor(7))
    sd = model.state_dict()
    loaded = round_trip(sd, tmp_path)
    assert type(loaded) is OrderedDict and list(loaded) == list(sd)
    for k in sd:
        assert_same_tensor(loaded[k], sd[k])
    assert loaded["0.weight"].array is loaded["1.weight"].array   # stored once, shared again
    other = nn.Sequential(nn.Module(), nn.Module())
    other[0].weight = nn.Parameter(mg.zeros(3, 2))
    other[1].weight = nn.Parameter(mg.zeros(3, 2))
    other[1].register_buffer("count", mg.tensor(0))
    other.load_state_dict(mg.load(tmp_path / "obj.pt"))
    assert other[1].count.item() == 7
    assert np.array_equal(other[1].weight.numpy(force=True), model[0].weight.numpy(force=True))


def test_optimizer_and_scheduler_state_round_trip(tmp_path):
    def setup():
        mg.manual_seed(0)
        params = [nn.Parameter(mg.randn(3, 3, dtype=mg.float64)), nn.Parameter(mg.randn(3))]
        opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}],
                         lr=0.1, amsgrad=True)
        return params, opt, optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4, 4])

    def train(params, opt, sched, steps):
        for _ in range(steps):
            opt.zero_grad()
            sum((p * p * p).sum() for p in params).backward()
            opt.step()
            sched.step()

    params, opt, sched = setup()
    train(params, opt, sched, 6)
    expected = [p.detach().numpy().copy() for p in params]

    params, opt, sched = setup()
    train(params, opt, sched, 3)
    mg.save({"params": [p.detach() for p in params], "opt": opt.state_dict(),
             "sched": sched.state_dict()}, tmp_path / "ckpt.pt")
    ckpt = mg.load(tmp_path / "ckpt.pt")
    assert sorted(ckpt["opt"]["state"]) == [0, 1]                     # int keys survive
    assert ckpt["opt"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert ckpt["sched"]["milestones"] == Counter({2: 1, 4: 2})
    assert type(ckpt["sched"]["milestones"]) is Counter
    step = ckpt["opt"]["state"][0]["step"]
    assert step.dtype == mg.float32 and step.item() == 3.0
    for key, value in opt.state_dict()["state"][0].items():
        assert_same_tensor(ckpt["opt"]["state"][0][key], value)

    params, opt, sched = setup()
    with mg.no_grad():
        for p, saved in zip(params, ckpt["params"]):
            p.copy_(saved)
    opt.load_state_dict(ckpt["opt"])
    sched.load_state_dict(ckpt["sched"])
    train(params, opt, sched, 3)
    for p, e in zip(params, expected):
        np.testing.assert_array_equal(p.detach().numpy(), e)


def test_truncated_and_foreign_files_raise(tmp_path):
    path = tmp_path / "model.pt"
    mg.save({"w": mg.randn(100, 100)}, path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 10, 0):
        (tmp_path / "cut.pt").write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match="not a valid minigrad checkpoint"):
            mg.load(tmp_path / "cut.pt")
    np.savez(tmp_path / "plain.npz", x=np.ones(3))
    with pytest.raises(RuntimeError, match="no minigrad manifest"):
        mg.load(tmp_path / "plain.npz")
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "missing.pt")


def test_object_arrays_are_refused_never_unpickled(tmp_path, monkeypatch):
    """An npz can carry a pickle as an object array; load refuses it, and pickle is
    never consulted."""
    class Boom:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    path = tmp_path / "evil.pt"
    mg.save({"w": mg.ones(2)}, path)
    with np.load(path) as good:
        manifest = good["__manifest__"]
    evil = np.empty(1, dtype=object)
    evil[0] = Boom()
    with open(path, "wb") as f:          # (a str path would get ".npz" appended)
        np.savez(f, a0=evil, __manifest__=manifest, allow_pickle=True)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("pickle.loads called"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("pickle.load called"))
    with pytest.raises(pickle.UnpicklingError, match="object array"):
        mg.load(path)
    with open(path, "wb") as f:
        np.savez(f, a0=np.ones(2), __manifest__=evil, allow_pickle=True)
    with pytest.raises(pickle.UnpicklingError):
        mg.load(path)


def test_crash_during_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    mg.save({"w": mg.ones(3)}, path)
    before = path.read_bytes()
    real_savez = np.savez

    def crashing_savez(file, *args, **kwargs):
        file.write(b"PK\x03\x04 partial garbage")            # something reached the disk
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", crashing_savez)
    with pytest.raises(OSError, match="disk full"):
        mg.save({"w": mg.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.pt"]                 # no temporary left behind
    assert mg.load(path)["w"].tolist() == [1, 1, 1]
    monkeypatch.setattr(np, "savez", real_savez)
    mg.save({"w": mg.zeros(3)}, str(path))                      # a str path works too
    assert mg.load(str(path))["w"].tolist() == [0, 0, 0]


@pytest.mark.parametrize("bad,name", [(lambda x: x, "lambda"), ((i for i in ()), "generator")])
def test_unpicklable_objects_raise_before_writing(bad, name, tmp_path):
    path = tmp_path / "x.pt"
    mg.save([1], path)
    with pytest.raises((TypeError, AttributeError, pickle.PicklingError), match=name):
        mg.save({"ok": mg.ones(2), "bad": bad}, path)
    assert mg.load(path) == [1]


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.register_buffer("scale", mg.full((2,), 2.0))

    def forward(self, x):
        return self.fc(x) * self.scale


@pytest.mark.parametrize("obj,name", [
    (nn.Module(), "Module"), ({1, 2}, "set"), (1 + 2j, "complex"), ({"k": [b"bytes"]}, "bytes"),
    ({mg.ones(1): 1}, "Tensor key")])
def test_other_objects_are_pickled_and_need_weights_only_false(obj, name, tmp_path):
    """PyTorch ≥ 2.6: save pickles anything; load's default weights_only=True refuses
    globals outside the allowlist; weights_only=False unpickles."""
    buffer = io.BytesIO()
    mg.save({"ok": mg.ones(2), "obj": obj}, buffer)
    data = buffer.getvalue()
    loaded = mg.load(io.BytesIO(data), weights_only=False)
    assert loaded["ok"].tolist() == [1, 1]
    if isinstance(obj, dict) and name == "Tensor key":
        (key, value), = loaded["obj"].items()
        assert key.tolist() == [1] and value == 1
    elif not isinstance(obj, nn.Module):
        assert loaded["obj"] == obj
    if isinstance(obj, nn.Module):
        with pytest.raises(pickle.UnpicklingError, match="(?s)weights_only.*Unsupported global.*Module"):
            mg.load(io.BytesIO(data))
    else:          # containers and plain values are on the default allowlist
        assert mg.load(io.BytesIO(data))["ok"].tolist() == [1, 1]


def test_whole_model_round_trip_and_safe_globals(tmp_path):
    net = _Net()
    path = tmp_path / "model.pt"
    mg.save(net, path)
    with pytest.raises(pickle.UnpicklingError, match="_Net"):
        mg.load(path)
    x = mg.randn(4, 3)
    loaded = mg.load(path, weights_only=False)
    assert type(loaded) is _Net and loaded is not net
    assert loaded(x).tolist() == net(x).tolist()
    assert isinstance(loaded.fc.weight, nn.Parameter) and loaded.fc.weight.requires_grad
    assert list(loaded.state_dict()) == ["scale", "fc.weight", "fc.bias"]
    # allowlisting the classes makes the default (weights_only) load work
    assert mg.serialization.get_safe_globals() == []
    with mg.serialization.safe_globals([_Net, nn.Linear]):
        assert set(mg.serialization.get_safe_globals()) == {_Net, nn.Linear}
        assert mg.load(path)(x).tolist() == net(x).tolist()
    assert mg.serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError, match="Linear"):
        with mg.serialization.safe_globals([_Net]):
            mg.load(path)
    mg.serialization.add_safe_globals([_Net, (nn.Linear, "minigrad.nn.modules.linear.Linear")])
    try:
        assert mg.load(path, map_location="cpu")(x).tolist() == net(x).tolist()
    finally:
        mg.serialization.clear_safe_globals()
    assert mg.serialization.get_safe_globals() == []
    # a pickled file never runs code under weights_only
    class Boom:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    mg.save({"w": mg.ones(1), "boom": Boom()}, path)
    with pytest.raises(pickle.UnpicklingError, match="system"):
        mg.load(path)


def test_shared_tensors_inside_a_pickle_stay_shared(tmp_path):
    lin = nn.Linear(2, 2)
    model = nn.Sequential(lin, nn.ReLU(), lin)        # the same module twice
    buffer = io.BytesIO()
    mg.save(model, buffer)
    loaded = mg.load(io.BytesIO(buffer.getvalue()), weights_only=False)
    assert loaded[0] is loaded[2]
    assert len(list(loaded.parameters())) == 2
    # tied weights across two modules (word_language_model's --tied) stay one Parameter
    encoder, decoder = nn.Embedding(5, 3), nn.Linear(3, 5)
    decoder.weight = encoder.weight
    buffer = io.BytesIO()
    mg.save(nn.ModuleDict({"encoder": encoder, "decoder": decoder}), buffer)
    loaded = mg.load(io.BytesIO(buffer.getvalue()), weights_only=False)
    assert loaded["decoder"].weight is loaded["encoder"].weight
    assert len(list(loaded.parameters())) == 2


def test_map_location_function(tmp_path):
    buffer = io.BytesIO()
    mg.save({"w": mg.ones(2)}, buffer)
    loaded = mg.load(io.BytesIO(buffer.getvalue()), map_location=lambda storage, loc: storage)
    assert loaded["w"].device.type == "cpu"


def test_self_referencing_container_is_pickled():
    loop = [mg.ones(1)]
    loop.append(loop)
    buffer = io.BytesIO()
    mg.save(loop, buffer)
    loaded = mg.load(io.BytesIO(buffer.getvalue()))
    assert loaded[1] is loaded and loaded[0].tolist() == [1]


def test_serialization_is_importable_as_torch_serialization():
    import minigrad.serialization as serialization
    assert serialization.save is mg.save and serialization.load is mg.load
    assert mg.serialization.DEFAULT_PROTOCOL == 2


def test_file_is_a_plain_npz_with_a_json_manifest(tmp_path):
    path = tmp_path / "x.pt"
    mg.save({"w": mg.ones(2, dtype=mg.float16)}, path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["__manifest__.npy", "a0.npy"]
    with np.load(path, allow_pickle=False) as npz:
        import json
        manifest = json.loads(npz["__manifest__"].tobytes())
        assert manifest["root"]["items"][0][1]["dtype"] == "float16"
        assert npz["a0"].dtype == np.float16


def test_map_location(tmp_path):
    path = tmp_path / "x.pt"
    mg.save({"w": mg.ones(2)}, path)
    assert mg.load(path, map_location="cpu")["w"].device == "cpu"
    assert mg.load(path, map_location={"cpu": "cpu"})["w"].device == "cpu"


class _PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=50):
        super().__init__()
        self.dropout = nn.Dropout(p=0.1)
        self.register_buffer("pe", mg.randn(max_len, 1, d_model))

    def forward(self, x):
        return self.dropout(x + self.pe[:x.size(0)])


class _TransformerLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos_encoder = _PositionalEncoding(8)
        self.transformer_encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2)
        self.input_emb = nn.Embedding(10, 8)
        self.decoder = nn.Linear(8, 10)

    def forward(self, src):
        return self.decoder(self.transformer_encoder(self.pos_encoder(self.input_emb(src))))


class _RNNLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.2)
        self.encoder = nn.Embedding(10, 4)
        self.rnn = nn.LSTM(4, 4, 2)
        self.decoder = nn.Linear(4, 10)
        self.decoder.weight = self.encoder.weight        # tied


def test_word_language_model_checkpoints_load_with_its_safe_globals():
    """pytorch/examples' word_language_model saves the whole model and loads it back under
    ``serialization.safe_globals`` with these allowlists (classes by their PyTorch paths)."""
    modules = mg.nn.modules
    transformer_list = [_PositionalEncoding, _TransformerLM, mg.nn.functional.relu,
                        modules.activation.MultiheadAttention, modules.container.ModuleList,
                        modules.dropout.Dropout, modules.linear.Linear,
                        modules.linear.NonDynamicallyQuantizableLinear,
                        modules.normalization.LayerNorm, modules.sparse.Embedding,
                        modules.transformer.TransformerEncoder,
                        modules.transformer.TransformerEncoderLayer]
    rnn_list = [_RNNLM, modules.dropout.Dropout, modules.linear.Linear, modules.rnn.GRU,
                modules.rnn.LSTM, modules.rnn.RNN, modules.sparse.Embedding]
    model = _TransformerLM().eval()
    buffer = io.BytesIO()
    mg.save(model, buffer)
    with pytest.raises(pickle.UnpicklingError):
        with mg.serialization.safe_globals(transformer_list[:-1]):
            mg.load(io.BytesIO(buffer.getvalue()))
    with mg.serialization.safe_globals(transformer_list):
        loaded = mg.load(io.BytesIO(buffer.getvalue()), map_location="cpu").eval()
    src = mg.randint(0, 10, (5, 2))
    assert loaded(src).tolist() == model(src).tolist()
    rnn = _RNNLM()
    buffer = io.BytesIO()
    mg.save(rnn, buffer)
    with mg.serialization.safe_globals(rnn_list):
        loaded = mg.load(io.BytesIO(buffer.getvalue()))
    loaded.rnn.flatten_parameters()
    assert loaded.decoder.weight is loaded.encoder.weight
