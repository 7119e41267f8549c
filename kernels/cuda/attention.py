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

Forward (``make_flash_forward``): one block of BQ threads per (BQ query rows, head), one
thread per query row, keeping its q row and its output accumulator in registers; per key
tile J of BK keys (K and V tiles staged in shared memory, S tile in shared as Sᵀ so the
per-thread column is bank-conflict free), online softmax:

    m' = max(m, max_j S_iJ),   c = exp(m − m'),   P_iJ = exp(S_iJ − m')
    l ← c·l + Σ_j P_ij,   acc ← c·acc + P_iJ V_J,   m ← m'
    out_i = acc / l,   lse_i = m + log l     (l = 0, every key masked: out_i = 0, lse_i = −∞)

Causal blocks stop at the last key their last row may see.  Extra memory: lse (H, Lq).

Backward (FlashAttention-2 style, P rebuilt from q, k and the saved lse; no atomics, so
results repeat bit for bit), for dO = ∂L/∂out (H, Lq, Dv):

    D   = rowsum(dO ∘ O)                   (H, Lq)       (xp, in the wrapper)
    P   = exp(S − lse)                     (H, Lq, Lk)   (0 on fully masked rows)
    dV  = Pᵀ dO                            (H, Lk, Dv)
    dP  = dO Vᵀ                            (H, Lq, Lk)
    dS  = P ∘ (dP − D)                     (H, Lq, Lk)
    dQ  = dS K · s                         (H, Lq, D)
    dK  = dSᵀ Q · s                        (H, Lk, D)

``make_flash_backward_kv``: one thread per key j (block = BK keys of a head) holding dK_j
and dV_j in registers and K_j, V_j in shared memory (transposed, conflict free), looping
over query tiles of BQ rows (Q, dO, lse, D staged in shared; causal starts at the
diagonal).  ``make_flash_backward_q``: one thread per query row i holding q_i and dQ_i in
registers (dO_i in shared, transposed), looping over key tiles.  P and dP are recomputed
in both; that is two extra Q·Kᵀ-sized products against atomics on dQ.

Not yet (no GPU has run these): warp-level 2-D register tiles, float4 loads, cp.async,
exp2 with log₂e folded into the scale, compile-time mask/causal variants.
"""
import math

from numba import cuda, float32

from ..catalogue import CATALOGUE, get_array_module
from ._launch import NEG_INF, SIMULATED, configured, kernel_jit

MAX_HEAD_DIM = 128
MAX_GRID_Y = 65535
MAX_GRID_X = 2**31 - 1
ZERO = float32(0.0)
ONE = float32(1.0)


def gpu_tiles(d, dv):
    """Production tiles for head dims ``d``, ``dv``: every block's static shared memory
    stays ≤ 40 KB (below the 48 KB static limit)."""
    wide = max(d, dv) > 64
    return dict(forward=dict(BQ=128, BK=16 if wide else 32),
                kv=dict(BQ=8 if wide else 16, BK=32 if wide else 64),
                q=dict(BQ=64, BK=8 if wide else 32))


SIMULATOR_TILES = dict(forward=dict(BQ=4, BK=3), kv=dict(BQ=3, BK=4), q=dict(BQ=4, BK=3))


def make_flash_forward(BQ, BK, D, DV):
    """``kernel[(⌈Lq/BQ⌉, H), BQ](q, k, v, mask, mask_index, row_step, col_step, has_mask,
    causal, scale, out, lse)``: see the module docstring.  Shared: (BK·(D+DV) + BK·BQ)
    floats."""
    k_size, v_size, s_size = BK * D, BK * DV, BK * BQ     # shared sizes must be constants

    @kernel_jit(BQ)
    def flash_forward(q, k, v, mask, mask_index, row_step, col_step, has_mask, causal, scale,
                      out, lse):
        h = cuda.blockIdx.y
        t = cuda.threadIdx.x
        lq = q.shape[1]
        lk = k.shape[1]
        q0 = cuda.blockIdx.x * BQ
        i = q0 + t
        live = i < lq
        row = i if live else lq - 1                  # dead threads still stage and sync
        k_tile = cuda.shared.array(k_size, float32)
        v_tile = cuda.shared.array(v_size, float32)
        s_tile = cuda.shared.array(s_size, float32)     # Sᵀ: s_tile[j·BQ + t]
        q_reg = cuda.local.array(D, float32)
        acc = cuda.local.array(DV, float32)
        for c in range(D):
            q_reg[c] = q[h, row, c]
        for c in range(DV):
            acc[c] = ZERO
        m = NEG_INF
        total = ZERO
        mi = mask_index[h]
        mrow = row * row_step
        end = min(lk, q0 + BQ) if causal else lk
        for k0 in range(0, end, BK):
            for e in range(t, BK * D, BQ):
                r = e // D
                value = ZERO
                if k0 + r < lk:
                    value = k[h, k0 + r, e - r * D]
                k_tile[e] = value
            for e in range(t, BK * DV, BQ):
                r = e // DV
                value = ZERO
                if k0 + r < lk:
                    value = v[h, k0 + r, e - r * DV]
                v_tile[e] = value
            cuda.syncthreads()
            tile_max = NEG_INF
            for j in range(BK):
                kj = k0 + j
                score = NEG_INF
                if kj < lk and not (causal and kj > i):
                    k_row = k_tile[j * D:]
                    dot = ZERO
                    for c in range(D):
                        dot += q_reg[c] * k_row[c]
                    score = dot * scale
                    if has_mask:
                        score += mask[mi, mrow, kj * col_step]
                s_tile[j * BQ + t] = score
                tile_max = max(tile_max, score)
            m_new = max(m, tile_max)
            shift = m_new if m_new != NEG_INF else ZERO    # all −∞ so far: every exp is 0
            correction = math.exp(m - shift)
            total *= correction
            for c in range(DV):
                acc[c] *= correction
            for j in range(BK):
                p = math.exp(s_tile[j * BQ + t] - shift)
                total += p
                v_row = v_tile[j * DV:]
                for c in range(DV):
                    acc[c] += p * v_row[c]
            m = m_new
            cuda.syncthreads()
        if live:
            if total > ZERO:
                inverse = ONE / total
                for c in range(DV):
                    out[h, i, c] = acc[c] * inverse
                lse[h, i] = m + math.log(total)
            else:
                for c in range(DV):
                    out[h, i, c] = ZERO
                lse[h, i] = NEG_INF

    flash_forward.tiles = dict(BQ=BQ, BK=BK, D=D, DV=DV)
    return flash_forward


def make_flash_backward_kv(BQ, BK, D, DV):
    """``kernel[(⌈Lk/BK⌉, H), BK](q, k, v, d_out, lse, delta, mask, mask_index, row_step,
    col_step, has_mask, causal, scale, dk, dv)``: dK = dSᵀ Q·s and dV = Pᵀ dO, one thread
    per key.  Shared: (BK·(D+DV) + BQ·(D+DV) + 2·BQ) floats."""
    k_size, v_size, q_size, do_size = D * BK, DV * BK, BQ * D, BQ * DV

    @kernel_jit(BK)
    def flash_backward_kv(q, k, v, d_out, lse, delta, mask, mask_index, row_step, col_step,
                          has_mask, causal, scale, dk, dv):
        h = cuda.blockIdx.y
        t = cuda.threadIdx.x
        lq = q.shape[1]
        lk = k.shape[1]
        k0 = cuda.blockIdx.x * BK
        j = k0 + t
        live = j < lk
        col = j if live else lk - 1
        k_cols = cuda.shared.array(k_size, float32)      # Kᵀ: k_cols[c·BK + t]
        v_cols = cuda.shared.array(v_size, float32)
        q_tile = cuda.shared.array(q_size, float32)
        do_tile = cuda.shared.array(do_size, float32)
        lse_tile = cuda.shared.array(BQ, float32)
        delta_tile = cuda.shared.array(BQ, float32)
        dk_acc = cuda.local.array(D, float32)
        dv_acc = cuda.local.array(DV, float32)
        for c in range(D):
            k_cols[c * BK + t] = k[h, col, c]
            dk_acc[c] = ZERO
        for c in range(DV):
            v_cols[c * BK + t] = v[h, col, c]
            dv_acc[c] = ZERO
        mi = mask_index[h]
        mcol = col * col_step
        start = (k0 // BQ) * BQ if causal else 0     # causal: queries i ≥ k0 only
        for i0 in range(start, lq, BQ):
            for e in range(t, BQ * D, BK):
                r = e // D
                value = ZERO
                if i0 + r < lq:
                    value = q[h, i0 + r, e - r * D]
                q_tile[e] = value
            for e in range(t, BQ * DV, BK):
                r = e // DV
                value = ZERO
                if i0 + r < lq:
                    value = d_out[h, i0 + r, e - r * DV]
                do_tile[e] = value
            for r in range(t, BQ, BK):
                row_lse = NEG_INF
                row_delta = ZERO
                if i0 + r < lq:
                    row_lse = lse[h, i0 + r]
                    row_delta = delta[h, i0 + r]
                lse_tile[r] = row_lse
                delta_tile[r] = row_delta
            cuda.syncthreads()
            for r in range(BQ):
                i = i0 + r
                row_lse = lse_tile[r]
                if row_lse != NEG_INF and not (causal and j > i):
                    q_row = q_tile[r * D:]
                    do_row = do_tile[r * DV:]
                    dot = ZERO
                    for c in range(D):
                        dot += q_row[c] * k_cols[c * BK + t]
                    score = dot * scale
                    if has_mask:
                        score += mask[mi, i * row_step, mcol]
                    p = math.exp(score - row_lse)
                    dp = ZERO
                    for c in range(DV):
                        dp += do_row[c] * v_cols[c * BK + t]
                        dv_acc[c] += p * do_row[c]
                    ds = p * (dp - delta_tile[r])
                    for c in range(D):
                        dk_acc[c] += ds * q_row[c]
            cuda.syncthreads()
        if live:
            for c in range(D):
                dk[h, j, c] = dk_acc[c] * scale
            for c in range(DV):
                dv[h, j, c] = dv_acc[c]

    flash_backward_kv.tiles = dict(BQ=BQ, BK=BK, D=D, DV=DV)
    return flash_backward_kv


def make_flash_backward_q(BQ, BK, D, DV):
    """``kernel[(⌈Lq/BQ⌉, H), BQ](q, k, v, d_out, lse, delta, mask, mask_index, row_step,
    col_step, has_mask, causal, scale, dq)``: dQ = dS K·s, one thread per query row.
    Shared: (DV·BQ + BK·(D+DV)) floats."""
    do_size, k_size, v_size = DV * BQ, BK * D, BK * DV

    @kernel_jit(BQ)
    def flash_backward_q(q, k, v, d_out, lse, delta, mask, mask_index, row_step, col_step,
                         has_mask, causal, scale, dq):
        h = cuda.blockIdx.y
        t = cuda.threadIdx.x
        lq = q.shape[1]
        lk = k.shape[1]
        q0 = cuda.blockIdx.x * BQ
        i = q0 + t
        live = i < lq
        row = i if live else lq - 1
        do_cols = cuda.shared.array(do_size, float32)    # dOᵀ: do_cols[c·BQ + t]
        k_tile = cuda.shared.array(k_size, float32)
        v_tile = cuda.shared.array(v_size, float32)
        q_reg = cuda.local.array(D, float32)
        dq_acc = cuda.local.array(D, float32)
        for c in range(D):
            q_reg[c] = q[h, row, c]
            dq_acc[c] = ZERO
        for c in range(DV):
            do_cols[c * BQ + t] = d_out[h, row, c]
        row_lse = lse[h, row]
        row_delta = delta[h, row]
        work = live and row_lse != NEG_INF
        mi = mask_index[h]
        mrow = row * row_step
        end = min(lk, q0 + BQ) if causal else lk
        for k0 in range(0, end, BK):
            for e in range(t, BK * D, BQ):
                r = e // D
                value = ZERO
                if k0 + r < lk:
                    value = k[h, k0 + r, e - r * D]
                k_tile[e] = value
            for e in range(t, BK * DV, BQ):
                r = e // DV
                value = ZERO
                if k0 + r < lk:
                    value = v[h, k0 + r, e - r * DV]
                v_tile[e] = value
            cuda.syncthreads()
            if work:
                for jj in range(BK):
                    kj = k0 + jj
                    if kj < lk and not (causal and kj > i):
                        k_row = k_tile[jj * D:]
                        v_row = v_tile[jj * DV:]
                        dot = ZERO
                        for c in range(D):
                            dot += q_reg[c] * k_row[c]
                        score = dot * scale
                        if has_mask:
                            score += mask[mi, mrow, kj * col_step]
                        p = math.exp(score - row_lse)
                        dp = ZERO
                        for c in range(DV):
                            dp += do_cols[c * BQ + t] * v_row[c]
                        ds = p * (dp - row_delta)
                        for c in range(D):
                            dq_acc[c] += ds * k_row[c]
            cuda.syncthreads()
        if live:
            for c in range(D):
                dq[h, i, c] = dq_acc[c] * scale

    flash_backward_q.tiles = dict(BQ=BQ, BK=BK, D=D, DV=DV)
    return flash_backward_q


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
        additive = xp.where(mask, xp.float32(0), xp.float32(-math.inf)).astype(xp.float32)
    else:
        additive = mask.astype(xp.float32)
    slices = 1
    for n in mask_batch:
        slices *= n
    additive = xp.ascontiguousarray(additive).reshape(slices, mq, mk)
    index = xp.arange(slices, dtype=xp.int32).reshape(mask_batch)
    index = _as_heads(xp, index, batch, ()).astype(xp.int32)
    return additive, index, int(mq != 1), int(mk != 1), True


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
    out = xp.empty((heads, lq, dv), xp.float32)
    lse = xp.empty((heads, lq), xp.float32)
    bq = forward.tiles["BQ"]
    configured(forward, ((lq + bq - 1) // bq, heads), bq, xp)(
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
    dq = xp.empty((heads, lq, d), xp.float32)
    dk = xp.empty((heads, lk, d), xp.float32)
    d_v = xp.empty((heads, lk, dv), xp.float32)
    bk = backward_kv.tiles["BK"]
    configured(backward_kv, ((lk + bk - 1) // bk, heads), bk, xp)(
        qh, kh, vh, doh, lseh, delta, *scalars, dk, d_v)
    bq = backward_q.tiles["BQ"]
    configured(backward_q, ((lq + bq - 1) // bq, heads), bq, xp)(
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
