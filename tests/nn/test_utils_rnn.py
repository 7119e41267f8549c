"""nn.utils.rnn (PackedSequence, pack/pad conversions) and RNN/LSTM/GRU on packed input:
values, batch order and gradients against PyTorch in float64."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.autograd import gradcheck
from minigrad.nn.utils import rnn as mg_rnn


def conversions(lib, rnn):
    """A program over the conversions; returns its log."""
    log = []
    x = lib.tensor(np.arange(24.0).reshape(4, 3, 2), requires_grad=True)
    p = rnn.pack_padded_sequence(x, [2, 4, 2], enforce_sorted=False)
    log.append((p.data.tolist(), p.batch_sizes.tolist(), p.sorted_indices.tolist(),
                p.unsorted_indices.tolist()))
    pad, lengths = rnn.pad_packed_sequence(p, batch_first=True, padding_value=-1,
                                           total_length=5)
    log.append((pad.tolist(), lengths.tolist(), str(lengths.dtype).split(".")[-1]))
    (pad * lib.tensor(np.arange(30.0).reshape(3, 5, 2))).sum().backward()
    log.append(x.grad.tolist())
    seqs = [lib.ones(3, 2), lib.ones(1, 2) * 2, lib.ones(2, 2) * 3]
    log.append(rnn.pad_sequence(seqs, batch_first=True).tolist())
    log.append(rnn.pad_sequence(seqs, padding_side="left", padding_value=9).tolist())
    packed = rnn.pack_sequence(seqs, enforce_sorted=False)
    log.append((packed.data.tolist(), packed.batch_sizes.tolist(),
                packed.sorted_indices.tolist()))
    log.append([s.tolist() for s in rnn.unpack_sequence(packed)])
    log.append([s.tolist() for s in rnn.unpad_sequence(rnn.pad_sequence(seqs), lib.tensor([3, 1, 2]))])
    sorted_pack = rnn.pack_padded_sequence(lib.zeros(3, 2, 1), lib.tensor([3, 2]))
    log.append((sorted_pack.sorted_indices, sorted_pack.unsorted_indices,
                sorted_pack.batch_sizes.tolist()))
    ties = rnn.pack_padded_sequence(lib.zeros(3, 4, 1), lib.tensor([3, 3, 2, 3]),
                                    enforce_sorted=False)
    log.append(ties.sorted_indices.tolist())
    return log


def test_conversions_match_pytorch():
    torch = pytest.importorskip("torch")
    assert conversions(mg, mg_rnn) == conversions(torch, torch.nn.utils.rnn)


def test_conversion_errors_match_pytorch():
    torch = pytest.importorskip("torch")
    for lib, rnn in ((mg, mg_rnn), (torch, torch.nn.utils.rnn)):
        seqs = [lib.ones(1, 2), lib.ones(3, 2)]
        with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
            rnn.pack_sequence(seqs)
        with pytest.raises(RuntimeError, match="greater than 0"):
            rnn.pack_padded_sequence(lib.ones(2, 2, 1), [2, 0])
        packed = rnn.pack_sequence(seqs, enforce_sorted=False)
        with pytest.raises(ValueError, match="Expected total_length to be at least"):
            rnn.pad_packed_sequence(packed, total_length=2)


def test_packed_sequence_is_a_tuple_and_converts():
    p = mg_rnn.pack_sequence([mg.ones(2, 3), mg.ones(1, 3)])
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert batch_sizes.tolist() == [2, 1] and sorted_indices is None
    assert p.double().data.dtype == mg.float64 and p.to(mg.float64).batch_sizes is batch_sizes
    assert not p.is_cuda and isinstance(p, tuple)


def test_pad_and_pack_gradcheck():
    def f(a, b, c):
        packed = mg_rnn.pack_sequence([a, b, c], enforce_sorted=False)
        padded, _ = mg_rnn.pad_packed_sequence(packed, padding_value=0.5)
        return (padded * padded).sum(0)
    rng = np.random.default_rng(0)
    inputs = [mg.tensor(rng.normal(size=(n, 2)), requires_grad=True) for n in (2, 3, 1)]
    assert gradcheck(f, inputs)


def _load(mm, tm):
    mm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})


@settings(max_examples=12, deadline=None)
@given(cls=st.sampled_from(["RNN", "LSTM", "GRU"]), bidirectional=st.booleans(),
       num_layers=st.integers(1, 2), batch_first=st.booleans(), with_hx=st.booleans(),
       lengths=st.lists(st.integers(1, 4), min_size=1, max_size=4), seed=st.integers(0, 99))
def test_recurrent_layers_on_packed_input_match_pytorch(cls, bidirectional, num_layers,
                                                        batch_first, with_hx, lengths, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    kw = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    if cls == "LSTM" and seed % 2:
        kw["proj_size"] = 2
    torch.manual_seed(seed)
    tm = getattr(torch.nn, cls)(3, 4, **kw).double()
    mm = getattr(mg.nn, cls)(3, 4, **kw).double()
    _load(mm, tm)
    batch, longest = len(lengths), max(lengths)
    xa = rng.normal(size=(batch, longest, 3) if batch_first else (longest, batch, 3))
    xt, xm = torch.tensor(xa, requires_grad=True), mg.tensor(xa, requires_grad=True)
    hxt = hxm = None
    layers = num_layers * (2 if bidirectional else 1)
    if with_hx:
        ha = rng.normal(size=(layers, batch, kw.get("proj_size") or 4))
        ht, hm = torch.tensor(ha, requires_grad=True), mg.tensor(ha, requires_grad=True)
        hxt, hxm = ht, hm
        if cls == "LSTM":
            ca = rng.normal(size=(layers, batch, 4))
            hxt, hxm = (ht, torch.tensor(ca)), (hm, mg.tensor(ca))
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first=batch_first,
                                                 enforce_sorted=False)
    pm = mg_rnn.pack_padded_sequence(xm, lengths, batch_first=batch_first, enforce_sorted=False)
    ot, st_ = tm(pt, hxt)
    om, sm = mm(pm, hxm)
    assert isinstance(om, mg_rnn.PackedSequence)
    np.testing.assert_allclose(om.data.detach().numpy(), ot.data.detach().numpy(), atol=1e-12)
    assert om.batch_sizes.tolist() == ot.batch_sizes.tolist()
    st_ = st_ if isinstance(st_, tuple) else (st_,)
    sm = sm if isinstance(sm, tuple) else (sm,)
    for a, b in zip(st_, sm):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), atol=1e-12)
    padt, _ = torch.nn.utils.rnn.pad_packed_sequence(ot, batch_first=batch_first)
    padm, _ = mg_rnn.pad_packed_sequence(om, batch_first=batch_first)
    w = rng.normal(size=tuple(padt.shape))
    ((padt * torch.tensor(w)).sum() + sum((s ** 2).sum() for s in st_)).backward()
    ((padm * mg.tensor(w)).sum() + sum((s ** 2).sum() for s in sm)).backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), atol=1e-10)
    if with_hx:
        np.testing.assert_allclose(hm.grad.numpy(), ht.grad.numpy(), atol=1e-10)
    mine = dict(mm.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(mine[name].grad.numpy(), p.grad.numpy(), atol=1e-10)


def test_packed_equals_unpacked_for_full_length_batch():
    """With every sequence full length, packing changes nothing."""
    lstm = mg.nn.LSTM(2, 3)
    x = mg.randn(4, 2, 2)
    out, (h, c) = lstm(x)
    pout, (ph, pc) = lstm(mg_rnn.pack_padded_sequence(x, [4, 4]))
    padded, _ = mg_rnn.pad_packed_sequence(pout)
    np.testing.assert_allclose(padded.detach().numpy(), out.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ph.detach().numpy(), h.detach().numpy(), rtol=1e-6)
