"""Flash attention, forward and backward, in numba.cuda (CUDA twins of the
``flash_attention_forward`` / ``flash_attention_backward`` references in
``reference/attention.py``).  float32, head dims D, Dv ≤ 128 (compile-time constants).

The wrappers broadcast the batch dims and flatten them into one head axis, so every
kernel sees C-contiguous ``q (H, Lq, D)``, ``k (H, Lk, D)``, ``v (H, Lk, Dv)``.  The mask is
not broadcast to (H, Lq, Lk): it is kept at its own size as an additive float32
``mask (M, mq, mk)`` (bool masks become 0 / −∞), and head h reads
``mask[mask_index[h], i·row_step, j·col_step]`` (a step is 0 on a broadcast axis).  Key
padding is such a mask, (B, 1, 1, Lk).  ``causal`` keeps key j ≤ query i (top-left aligned,
PyTorch's ``is_causal``).  With s = scale (default 1/√D) and B the mask/causal bias:

    S = s·q kᵀ + B    (H, Lq, Lk; never stored)

Forward (``make_flash_forward``, factories in ``_flash_kernels.py``): one block per (BQ
query rows, head), G threads per query row (G = 1 up to D = 64), each keeping its share of
the q row and of the output accumulator in registers; per key tile J of BK keys (K and V
tiles staged in shared memory, the G partial scores meeting in shared memory), the online
softmax, per query row i:

    m' = max(m, max_j S_iJ),   c = exp(m − m'),   P_iJ = exp(S_iJ − m')
    l ← c·l + Σ_j P_ij,   acc ← c·acc + P_iJ V_J,   m ← m'
    out_i = acc / l,   lse_i = m + log l     (l = 0, every key masked: out_i = 0, lse_i = −∞)

Causal blocks stop at the last key their last row may see.  Extra memory: lse (H, Lq), O(T).

Backward (FlashAttention-2 style, P rebuilt from q, k and the saved lse; no atomics, so
results repeat bit for bit), for dO = ∂L/∂out (H, Lq, Dv):

    D   = rowsum(dO ∘ O)                   (H, Lq)       (xp, in the wrapper)
    P   = exp(S − lse)                     (H, Lq, Lk)   (0 on fully masked rows)
    dV  = Pᵀ dO                            (H, Lk, Dv)
    dP  = dO Vᵀ                            (H, Lq, Lk)
    dS  = P ∘ (dP − D)                     (H, Lq, Lk)
    dQ  = dS K · s                         (H, Lq, D)
    dK  = dSᵀ Q · s                        (H, Lk, D)

``make_flash_backward_kv``: G threads per key j (block = BK keys of a head) holding dK_j
and dV_j in registers and K_j, V_j in shared memory (transposed, conflict free), looping
over query tiles of BQ rows (Q, dO, lse, D staged in shared; causal starts at the
diagonal).  ``make_flash_backward_q``: G threads per query row i holding q_i and dQ_i in
registers (dO_i in shared, transposed), looping over key tiles.  P and dP are recomputed
in both: two extra Q·Kᵀ-sized products, paid for determinism instead of atomics on dQ.

Not yet (no GPU has run these): warp-level 2-D register tiles, float4 loads, cp.async,
exp2 with log₂e folded into the scale, compile-time mask/causal variants.
"""
import contextlib
import contextvars
import math

from numba import float32  # (first: a machine without numba-cuda skips this backend)

from ..catalogue import CATALOGUE, get_array_module
from ._flash_kernels import make_flash_backward_kv, make_flash_backward_q, make_flash_forward
from ._launch import SIMULATED, configured

MAX_HEAD_DIM = 128
MAX_GRID_Y = 65535


def gpu_tiles(d, dv):
    """Production tiles for head dims ``d``, ``dv``: each block's static shared memory
    ≤ 45 KB (the static limit is 48 KB) and, per thread, ≤ 64 + 64 floats of register
    accumulators (G = 2 threads per row above 64; an odd wide dim falls back to G = 1,
    correct but spilling)."""
    wide = max(d, dv) > 64
    if not wide:
        return dict(forward=dict(BQ=128, BK=32, G=1), kv=dict(BQ=8, BK=64, G=1),
                    q=dict(BQ=64, BK=16, G=1))
    g = 2 if d % 2 == 0 and dv % 2 == 0 else 1
    return dict(forward=dict(BQ=64, BK=16, G=g), kv=dict(BQ=8, BK=32, G=g),
                q=dict(BQ=32, BK=16, G=g))


SIMULATOR_TILES = dict(forward=dict(BQ=4, BK=3, G=1), kv=dict(BQ=3, BK=4, G=1),
                       q=dict(BQ=4, BK=3, G=1))


# ------------------------------------------------------------------------ wrappers
_KERNELS = {}


def default_kernels(d, dv, tiles=None):
    """``(forward, backward_kv, backward_q)`` for head dims ``d``, ``dv``, cached; production
    tiles on a GPU, tiny ones in the simulator, unless ``tiles`` (as ``gpu_tiles``) is given."""
    tiles = tiles or (SIMULATOR_TILES if SIMULATED else gpu_tiles(d, dv))
    key = (d, dv) + tuple((part, tuple(sorted(tiles[part].items()))) for part in sorted(tiles))
    if key not in _KERNELS:
        _KERNELS[key] = (make_flash_forward(**tiles["forward"], D=d, DV=dv),
                         make_flash_backward_kv(**tiles["kv"], D=d, DV=dv),
                         make_flash_backward_q(**tiles["q"], D=d, DV=dv))
    return _KERNELS[key]


def broadcast_shapes(*shapes):
    """numpy's broadcasting rule on shape tuples; ValueError if they do not broadcast."""
    size = max((len(s) for s in shapes), default=0)
    out = [1] * size
    for shape in shapes:
        for axis, n in enumerate((1,) * (size - len(shape)) + tuple(shape)):
            if n != 1:
                if out[axis] not in (1, n):
                    raise ValueError(f"shapes {shapes} do not broadcast")
                out[axis] = n
    return tuple(out)


def _batch_shape(q, k, v, mask):
    shapes = [q.shape[:-2], k.shape[:-2], v.shape[:-2]]
    if mask is not None:
        shapes.append(mask.shape[:-2])
    return broadcast_shapes(*shapes)


def _as_heads(xp, array, batch, tail):
    """Broadcast to ``batch + tail``, flatten the batch: C-contiguous float32 (H, *tail)."""
    shape = tuple(batch) + tuple(tail)
    # (broadcast_to only where needed: its views are read-only, which the simulator rejects)
    full = array if tuple(array.shape) == shape else xp.broadcast_to(array, shape)
    return xp.ascontiguousarray(full, dtype=xp.float32).reshape((-1,) + tuple(tail))


def mask_operands(xp, mask, batch, heads):
    """``(mask (M, mq, mk) additive float32, mask_index (H,) int32, row_step, col_step,
    has_mask)`` as the kernels read them."""
    if mask is None:
        return (xp.zeros((1, 1, 1), xp.float32), xp.zeros(heads, xp.int32), 0, 0, False)
    mask = mask.reshape((1,) * (len(batch) + 2 - mask.ndim) + mask.shape)
    mask_batch, (mq, mk) = mask.shape[:-2], mask.shape[-2:]
    if mask.dtype == bool:
        additive = xp.zeros(mask.shape, xp.float32)
        additive[xp.logical_not(mask)] = -math.inf
    else:
        additive = mask.astype(xp.float32)
    slices = 1
    for n in mask_batch:
        slices *= n
    additive = xp.ascontiguousarray(additive).reshape(slices, mq, mk)
    index = xp.arange(slices, dtype=xp.int32).reshape(mask_batch)
    index = _as_heads(xp, index, batch, ()).astype(xp.int32)
    return additive, index, int(mq != 1), int(mk != 1), True


_POISON = contextvars.ContextVar("flash_attention_poison", default=False)


@contextlib.contextmanager
def poisoned_outputs():
    """Within the block the wrappers fill their outputs with NaN before the launch, so an
    element no thread writes shows up as NaN (``gpu_check`` uses it on the device, where
    ``empty`` memory may hold an earlier run's right answer)."""
    token = _POISON.set(True)
    try:
        yield
    finally:
        _POISON.reset(token)


def _output(xp, shape):
    if _POISON.get():
        return xp.full(shape, math.nan, xp.float32)
    return xp.empty(shape, xp.float32)


def _scalars(mask_ops, causal, scale):
    mask, index, row_step, col_step, has_mask = mask_ops
    return (mask, index, _int32(row_step), _int32(col_step), bool(has_mask), bool(causal),
            float32(scale))


def _int32(n):
    """A numpy int32 scalar, which numba types as int32 (one compiled signature)."""
    return get_array_module().int32(n)


def _scale(q, scale):
    return 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)


def _operands(q, k, v, mask):
    xp = get_array_module(q, k, v, mask)
    batch = _batch_shape(q, k, v, mask)
    (lq, d), (lk, dv) = q.shape[-2:], v.shape[-2:]
    qh, kh, vh = (_as_heads(xp, q, batch, (lq, d)), _as_heads(xp, k, batch, (lk, d)),
                  _as_heads(xp, v, batch, (lk, dv)))
    return xp, batch, qh, kh, vh, mask_operands(xp, mask, batch, qh.shape[0])


def flash_attention_forward(q, k, v, mask=None, scale=None, causal=False, tiles=None):
    """``(out (..., Lq, Dv), lse (..., Lq))``, float32, batch dims broadcast (as the reference)."""
    xp, batch, qh, kh, vh, mask_ops = _operands(q, k, v, mask)
    heads, lq, d = qh.shape
    dv = vh.shape[2]
    forward, _, _ = default_kernels(d, dv, tiles)
    out = _output(xp, (heads, lq, dv))
    lse = _output(xp, (heads, lq))
    bq = forward.tiles["BQ"]
    configured(forward, ((lq + bq - 1) // bq, heads), forward.threads, xp)(
        qh, kh, vh, *_scalars(mask_ops, causal, _scale(q, scale)), out, lse)
    return out.reshape(batch + (lq, dv)), lse.reshape(batch + (lq,))


def flash_attention_backward(q, k, v, out, lse, d_out, mask=None, scale=None, causal=False,
                             tiles=None):
    """``(dq, dk, dv)`` in the broadcast batch shape, float32 (as the reference)."""
    xp, batch, qh, kh, vh, mask_ops = _operands(q, k, v, mask)
    heads, lq, d = qh.shape
    lk, dv = vh.shape[1:]
    _, backward_kv, backward_q = default_kernels(d, dv, tiles)
    outh = _as_heads(xp, out, batch, (lq, dv))
    doh = _as_heads(xp, d_out, batch, (lq, dv))
    lseh = _as_heads(xp, lse, batch, (lq,))
    delta = xp.ascontiguousarray((doh * outh).sum(axis=-1), dtype=xp.float32)   # D (H, Lq)
    scalars = _scalars(mask_ops, causal, _scale(q, scale))
    dq = _output(xp, (heads, lq, d))
    dk = _output(xp, (heads, lk, d))
    d_v = _output(xp, (heads, lk, dv))
    bk = backward_kv.tiles["BK"]
    configured(backward_kv, ((lk + bk - 1) // bk, heads), backward_kv.threads, xp)(
        qh, kh, vh, doh, lseh, delta, *scalars, dk, d_v)
    bq = backward_q.tiles["BQ"]
    configured(backward_q, ((lq + bq - 1) // bq, heads), backward_q.threads, xp)(
        qh, kh, vh, doh, lseh, delta, *scalars, dq)
    return (dq.reshape(batch + (lq, d)), dk.reshape(batch + (lk, d)),
            d_v.reshape(batch + (lk, dv)))


def accepts_attention(q, k, v, mask=None, *rest, **options):
    """float32 q, k, v, non-empty, head dims ≤ 128, a bool or float mask broadcasting to
    the scores, and a grid that fits (heads ≤ 65535)."""
    arrays = (q, k, v)
    if any(getattr(a, "dtype", None) != "float32" or a.ndim < 2 or 0 in a.shape for a in arrays):
        return False
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        return False
    if q.shape[-1] > MAX_HEAD_DIM or v.shape[-1] > MAX_HEAD_DIM:
        return False
    if mask is not None:
        if mask.dtype != bool and mask.dtype.kind != "f":
            return False
        try:
            batch = _batch_shape(q, k, v, mask)
            scores = broadcast_shapes(mask.shape[-2:], (q.shape[-2], k.shape[-2]))
        except ValueError:
            return False
        if scores != (q.shape[-2], k.shape[-2]):
            return False
    else:
        try:
            batch = _batch_shape(q, k, v, None)
        except ValueError:
            return False
    heads = 1
    for n in batch:
        heads *= n
    return heads <= MAX_GRID_Y


def accepts_attention_backward(q, k, v, out, lse, d_out, mask=None, *rest, **options):
    return accepts_attention(q, k, v, mask) and all(
        getattr(a, "dtype", None) == "float32" for a in (out, lse, d_out))


CATALOGUE.register("flash_attention_forward", "cuda", flash_attention_forward,
                   accepts=accepts_attention)
CATALOGUE.register("flash_attention_backward", "cuda", flash_attention_backward,
                   accepts=accepts_attention_backward)
