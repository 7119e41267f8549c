"""F.dropout and channel dropout: keep-rate and scaling statistics, mean preservation,
gradient = the same scaled mask, reproducibility under manual_seed, evaluation identity,
p = 0 / p = 1, in-place form, and the probability check."""
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from tests.nn.parity import leaf


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_statistics(p, device):
    mg.manual_seed(0)
    x = mg.ones(200, 500, dtype=mg.float64, device=device)
    y = F.dropout(x, p).cpu().numpy()
    kept = y != 0
    n = kept.size
    # kept fraction within 5 standard deviations of 1 − p
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(y[kept], 1.0 / (1 - p))
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / n)


def test_gradient_is_the_scaled_mask(device):
    x = leaf(np.random.default_rng(0).standard_normal((50, 40)), device=device)
    y = F.dropout(x, 0.3)
    y.backward(mg.ones(y.shape, dtype=mg.float64, device=device))
    mask = y.detach().cpu().numpy() / x.detach().cpu().numpy()
    np.testing.assert_allclose(x.grad.cpu().numpy(), mask)
    assert set(np.round(np.unique(mask), 12)) <= {0.0, round(1 / 0.7, 12)}


def test_seeded_and_eval_and_extremes(device):
    x = mg.randn(4, 5, device=device)
    mg.manual_seed(3)
    a = F.dropout(x, 0.5).cpu().numpy()
    mg.manual_seed(3)
    b = F.dropout(x, 0.5).cpu().numpy()
    np.testing.assert_array_equal(a, b)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert not F.dropout(x, 1.0).cpu().numpy().any()
    assert F.dropout(x, 0.5).dtype == mg.float32


def test_inplace(device):
    base = leaf(np.ones((10, 10)), device=device)
    work = base * 1.0
    out = F.dropout(work, 0.5, inplace=True)
    assert out is work
    out.sum().backward()
    np.testing.assert_allclose(base.grad.cpu().numpy(), out.detach().cpu().numpy())


def test_channel_dropout_zeroes_whole_channels(device):
    mg.manual_seed(1)
    y = F.dropout2d(mg.ones(8, 16, 3, 3, device=device), 0.5).cpu().numpy()
    per_channel = y.reshape(8, 16, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1)).all()
    assert 0 < (per_channel == 0).all(-1).mean() < 1
    y1 = F.dropout1d(mg.ones(4, 6, 5, device=device), 0.5).cpu().numpy()
    assert ((y1 == 0).all(-1) | (y1 == 2.0).all(-1)).all()
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(mg.ones(3, 3, 3, 3, device=device), 0.5)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_probability_out_of_range(p, device):
    with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
        F.dropout(mg.randn(3, device=device), p)


@pytest.mark.parametrize("op,shape,mask_dims,warns", [
    ("dropout2d", (40, 30), 2, 1),            # 2-D: a warning, then elementwise dropout
    ("dropout2d", (20, 30, 5), 2, 1),         # 3-D: read as (N, C, L), with a warning
    ("dropout2d", (6, 8, 3, 3), 2, 0),
    ("dropout2d", (4, 5, 2, 2, 2), 2, 1),     # 5-D: first two dims drawn
    ("dropout3d", (6, 8, 2, 2, 2), 2, 0),
    ("dropout3d", (10, 2, 3, 4), 1, 0),       # unbatched (C, D, H, W)
    ("dropout3d", (30, 20), 1, 1),            # 2-D: unbatched, one draw per row
    ("dropout1d", (12, 7), 1, 0),             # unbatched (C, L)
    ("dropout1d", (5, 12, 7), 2, 0)])
def test_feature_dropout_masks_and_warnings_match_torch(op, shape, mask_dims, warns, device):
    """Which dims get their own draw, and the UserWarnings, as PyTorch (torch only warns for
    dropout2d/3d on other ranks)."""
    torch = pytest.importorskip("torch")
    mg.manual_seed(3)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        y = getattr(F, op)(mg.ones(*shape, device=device), 0.5).cpu().numpy()
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        getattr(torch.nn.functional, op)(torch.ones(*shape), 0.5)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert all(w.category is UserWarning for w in ours) and len(ours) == warns
    per_draw = y.reshape(shape[:mask_dims] + (-1,))
    assert ((per_draw == 0).all(-1) | (per_draw == 2.0).all(-1)).all()
    assert 0 < (per_draw == 0).all(-1).mean() < 1


def test_dropout2d_module_on_2d_input_warns_and_evaluates(device):
    m = nn.Dropout2d(0.5)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        m(mg.ones(4, 3, device=device))
    m.eval()
    x = mg.ones(4, 3, device=device)
    with pytest.warns(UserWarning):
        assert m(x) is x
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"), \
            pytest.warns(UserWarning, match="Received a 1-D input"):
        F.dropout2d(mg.ones(4, device=device))
