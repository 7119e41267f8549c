"""Blockwise (flash-style) attention on the CPU: memory linear in the sequence length.

The reference (``reference/attention.py``) forms the whole score matrix S (…, Lq, Lk);
these kernels stream over tiles of ``BLOCK_K`` keys instead and never hold more than one
row of one tile of S per thread.  Per query row i, with s = scale and B the mask/causal bias:

    forward (online softmax; m = running max, l = running sum, a = unnormalised output):
        for each key tile J:   S_iJ = s·q_i K_Jᵀ + B_iJ
                               m' = max(m, max_j S_ij),   c = exp(m − m')
                               P_iJ = exp(S_iJ − m')
                               l ← c·l + Σ_j P_ij,   a ← c·a + P_iJ V_J,   m ← m'
        out_i = a / l,   lse_i = m + log l          (l = 0: every key masked → 0, −∞)

    backward (P rebuilt from the saved lse; no (Lq, Lk) matrix either):
        D_i = rowsum(dO ⊙ O)_i
        P_ij = exp(S_ij − lse_i),   dS_ij = P_ij (dO_i · v_j − D_i)
        dv_j += P_ij dO_i,   dk_j += s·dS_ij q_i,   dq_i += s·dS_ij k_j

Layout: the entry points broadcast the batch dims and flatten them into one "head" axis,
so every kernel sees C-contiguous ``q (H, Lq, D)``, ``k (H, Lk, D)``, ``v (H, Lk, Dv)``.
Extra memory is O(H·L·D) for those copies and the outputs, plus O(BLOCK·D) scratch per
thread.  The mask is *not* broadcast to (H, Lq, Lk): it is kept at its own size as an
additive float array ``mask (M, mq, mk)`` (bool masks become 0 / −∞), and head h reads
``mask[mask_index[h], i·row_step, j·col_step]`` (the steps are 0 on broadcast axes).

Speed without BLAS, SVML or ``fastmath`` (the house ``jit`` keeps it off, which is what
keeps float64 within 1e-10 of the reference): the products are row-vector × tile loops
(``_add_vector_times_matrix``) over a contiguous axis (a transposed K tile, rows of V, K
and the gradients), which LLVM vectorises without reassociating any sum; the exps go
through ``_exp.exp_shifted``, a polynomial exp that vectorises where libm's does not.
The backward takes query rows four at a time, so each entry of a tile's dkᵀ and dvᵀ is
loaded and stored once per four multiply-adds.

Parallelism: the forward pass runs (head, query tile) tasks; the backward runs one task
per head, which owns that head's dq, dk and dv outright (no atomics, and no per-thread
copies of dq, which would cost O(threads·L·D)); with fewer heads than threads the
backward leaves threads idle.
"""
import numba  # (first: a machine without numba skips this backend)

from ..catalogue import CATALOGUE, get_array_module
from ..reference.attention import _resolve_scale
from ._exp import exp_shifted, exp_table
from ._jit import jit, prange

# numba kernels take numpy arrays only (dispatch sees to it), so xp is numpy here; numba
# compiles the ``np.*`` calls below from this module global.
np = get_array_module()

# 64 keys × D ≤ 128 floats of K and V stay in L1/L2 while a tile's query rows stream past.
BLOCK_Q = 64
BLOCK_K = 64
ROWS = 4            # query rows per pass over a tile's dk and dv in the backward


@jit
def _add_vector_times_matrix(x, n, tile, width, out):
    """``out[:width] += Σ_{t<n} x[t]·tile[t, :width]``: a row vector times a tile whose rows
    are contiguous (Q·Kᵀ against a transposed K tile, P·V, dS·K).  Four rows of the tile per
    pass over ``out``: such loops are bound by loads and stores, not arithmetic, so one
    load and store of ``out`` per four multiply-adds runs ~1.3–1.8× faster than one per
    multiply-add (the order of the sum changes, by a few ulps, never the result's meaning)."""
    t = 0
    while t + 4 <= n:
        x0, x1, x2, x3 = x[t], x[t + 1], x[t + 2], x[t + 3]
        for j in range(width):
            out[j] += (x0 * tile[t, j] + x1 * tile[t + 1, j]) + \
                (x2 * tile[t + 2, j] + x3 * tile[t + 3, j])
        t += 4
    while t < n:
        x0 = x[t]
        for j in range(width):
            out[j] += x0 * tile[t, j]
        t += 1


@jit(parallel=True)
def _forward_blocks(q, k, v, mask, mask_index, row_step, col_step, has_mask, scale, causal,
                    exp_constants, out, lse):
    heads, lq, d = q.shape
    lk, dv = v.shape[1], v.shape[2]
    q_blocks = (lq + BLOCK_Q - 1) // BLOCK_Q
    for task in prange(heads * q_blocks):
        h = task // q_blocks
        q0 = (task - h * q_blocks) * BLOCK_Q
        q1 = min(q0 + BLOCK_Q, lq)
        m_index = mask_index[h]
        k_t = np.empty((d, BLOCK_K), q.dtype)          # K tile, transposed: rows contiguous
        scores = np.empty(BLOCK_K, q.dtype)            # one row of S (then of P) at a time
        acc = np.zeros((BLOCK_Q, dv), q.dtype)
        row_max = np.full(BLOCK_Q, -np.inf, q.dtype)
        row_sum = np.zeros(BLOCK_Q, q.dtype)
        # Causal: query i < q1 sees keys j ≤ i, so no key at or past q1 is ever needed.
        k_end = min(lk, q1) if causal else lk
        for k0 in range(0, k_end, BLOCK_K):
            width = min(BLOCK_K, k_end - k0)
            for j in range(width):
                for c in range(d):
                    k_t[c, j] = k[h, k0 + j, c]
            for i in range(q0, q1):
                r = i - q0
                stop = min(width, i + 1 - k0) if causal else width
                if stop <= 0:
                    continue
                scores[:stop] = 0
                _add_vector_times_matrix(q[h, i], d, k_t, stop, scores)     # S_iJ = q_i K_Jᵀ
                new_max = row_max[r]
                for j in range(stop):
                    s = scores[j] * scale
                    if has_mask:
                        s += mask[m_index, i * row_step, (k0 + j) * col_step]
                    scores[j] = s
                    if s > new_max:
                        new_max = s
                if new_max == -np.inf:
                    continue                           # every key so far masked: nothing to add
                correction = np.exp(row_max[r] - new_max)   # 0 on the first live tile
                row_max[r] = new_max
                row_sum[r] *= correction
                exp_shifted(scores, stop, new_max, exp_constants)     # P_ij, vectorised
                for j in range(stop):
                    row_sum[r] += scores[j]
                if correction != 1:
                    for c in range(dv):
                        acc[r, c] *= correction
                _add_vector_times_matrix(scores, stop, v[h, k0:k0 + stop], dv, acc[r])  # += P V
        for i in range(q0, q1):
            r = i - q0
            if row_sum[r] > 0:
                inverse = 1 / row_sum[r]
                for c in range(dv):
                    out[h, i, c] = acc[r, c] * inverse
                lse[h, i] = row_max[r] + np.log(row_sum[r])
            else:                                      # fully masked row: out stays 0
                lse[h, i] = -np.inf


@jit(parallel=True)
def _backward_blocks(q, k, v, out, lse, d_out, mask, mask_index, row_step, col_step, has_mask,
                     scale, causal, exp_constants, dq, dk, dv):
    heads, lq, d = q.shape
    lk, d_v = v.shape[1], v.shape[2]
    for h in prange(heads):
        m_index = mask_index[h]
        delta = np.empty(lq, q.dtype)
        for i in range(lq):
            delta[i] = 0
            for c in range(d_v):
                delta[i] += d_out[h, i, c] * out[h, i, c]
        k_t = np.empty((d, BLOCK_K), q.dtype)
        v_t = np.empty((d_v, BLOCK_K), q.dtype)
        dk_t = np.empty((d, BLOCK_K), q.dtype)         # this tile's dk and dv, transposed
        dv_t = np.empty((d_v, BLOCK_K), q.dtype)
        p = np.zeros((ROWS, BLOCK_K), q.dtype)          # P and s·dS of a group of query rows
        ds = np.zeros((ROWS, BLOCK_K), q.dtype)
        zero = np.zeros(1, q.dtype)[0]        # a Python 0 would promote float32 math to float64
        for k0 in range(0, lk, BLOCK_K):
            width = min(BLOCK_K, lk - k0)
            for j in range(width):
                for c in range(d):
                    k_t[c, j] = k[h, k0 + j, c]
                for c in range(d_v):
                    v_t[c, j] = v[h, k0 + j, c]
            dk_t[:, :width] = 0
            dv_t[:, :width] = 0
            # Causal: only queries i ≥ k0 see a key of this tile.  Rows go in groups of
            # ROWS, so each dk/dv entry is loaded and stored once per group, not per row.
            for i0 in range(k0 if causal else 0, lq, ROWS):
                rows = min(ROWS, lq - i0)
                stop = min(width, i0 + rows - k0) if causal else width   # the widest row
                for r in range(ROWS):
                    p[r, :stop] = 0
                    ds[r, :stop] = 0
                    i = i0 + r
                    if r >= rows or lse[h, i] == -np.inf:
                        continue                       # no row, or a fully masked one: P = 0
                    _add_vector_times_matrix(q[h, i], d, k_t, stop, p[r])         # q_i K_Jᵀ
                    _add_vector_times_matrix(d_out[h, i], d_v, v_t, stop, ds[r])  # dO_i V_Jᵀ
                    for j in range(stop):
                        s = p[r, j] * scale
                        if has_mask:
                            s += mask[m_index, i * row_step, (k0 + j) * col_step]
                        if causal and k0 + j > i:
                            s = -np.inf
                        p[r, j] = s
                    exp_shifted(p[r], stop, lse[h, i], exp_constants)   # exp(S_ij − lse_i)
                    for j in range(stop):
                        ds[r, j] = p[r, j] * (ds[r, j] - delta[i]) * scale   # s·dS_ij
                    _add_vector_times_matrix(ds[r], stop, k[h, k0:k0 + stop], d, dq[h, i])
                # dkᵀ[:, J] += Σ_r q_r ⊗ s·dS_rJ and dvᵀ[:, J] += Σ_r dO_r ⊗ P_rJ, four rows
                # per pass (rows past the group are zero in p and ds, and read as zero here).
                for c in range(d):
                    x0 = q[h, i0, c]
                    x1 = q[h, i0 + 1, c] if rows > 1 else zero
                    x2 = q[h, i0 + 2, c] if rows > 2 else zero
                    x3 = q[h, i0 + 3, c] if rows > 3 else zero
                    for j in range(stop):
                        dk_t[c, j] += (x0 * ds[0, j] + x1 * ds[1, j]) + \
                            (x2 * ds[2, j] + x3 * ds[3, j])
                for c in range(d_v):
                    x0 = d_out[h, i0, c]
                    x1 = d_out[h, i0 + 1, c] if rows > 1 else zero
                    x2 = d_out[h, i0 + 2, c] if rows > 2 else zero
                    x3 = d_out[h, i0 + 3, c] if rows > 3 else zero
                    for j in range(stop):
                        dv_t[c, j] += (x0 * p[0, j] + x1 * p[1, j]) + (x2 * p[2, j] + x3 * p[3, j])
            for j in range(width):
                for c in range(d):
                    dk[h, k0 + j, c] = dk_t[c, j]
                for c in range(d_v):
                    dv[h, k0 + j, c] = dv_t[c, j]


# ---------------------------------------------------------------- entry points
# Below this many score entries × D a call runs on one thread: waking numba's workers
# costs microseconds on an idle machine and a scheduler time slice (~10 ms measured, 2
# busy cores) on a loaded one, more than the whole call (~0.2 ms on one thread).
SERIAL_BELOW = 1 << 22
_EXP_TABLES = {}


def _run(kernel, work, *args):
    """``kernel(*args)`` on numba's thread pool, or on one thread when ``work`` is small."""
    threads = numba.get_num_threads()
    if work >= SERIAL_BELOW or threads == 1:
        return kernel(*args)
    numba.set_num_threads(1)                   # thread-local, restored below
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(threads)


def _exp_constants(dtype):
    if dtype not in _EXP_TABLES:
        _EXP_TABLES[dtype] = _read_only(exp_table(dtype))
    return _EXP_TABLES[dtype]


def _batch_shape(q, k, v, mask):
    shapes = [q.shape[:-2], k.shape[:-2], v.shape[:-2]]
    if mask is not None:
        shapes.append(mask.shape[:-2])
    return np.broadcast_shapes(*shapes)


def _read_only(array):
    """A read-only view: numba types read-only and writable arrays apart, so every input
    operand is made read-only and each kernel compiles once per dtype, not per flag mix."""
    view = array.view()
    view.flags.writeable = False
    return view


def _as_heads(array, batch, tail):
    """Broadcast to ``batch + tail`` and flatten the batch: a C-contiguous (H, *tail) array
    (a copy only where the input is broadcast or not contiguous)."""
    full = np.broadcast_to(array, batch + tail)
    return _read_only(np.ascontiguousarray(full).reshape((-1,) + tail))


def _mask_operands(mask, batch, lq, lk, dtype):
    """``(mask (M, mq, mk), mask_index (H,), row_step, col_step, has_mask)`` as the kernels
    read them: the mask at its own size, additive, in ``dtype``; which of its M slices
    each flattened head uses."""
    heads = int(np.prod(batch, dtype=np.int64))
    if mask is None:
        return (_read_only(np.zeros((1, 1, 1), dtype)), _read_only(np.zeros(heads, np.int64)),
                0, 0, False)
    mask = mask.reshape((1,) * (len(batch) + 2 - mask.ndim) + mask.shape)
    mask_batch, (mq, mk) = mask.shape[:-2], mask.shape[-2:]
    if mask.dtype == bool:
        additive = np.where(mask, dtype.type(0), dtype.type(-np.inf))
    else:
        additive = mask.astype(dtype)
    slices = int(np.prod(mask_batch, dtype=np.int64))
    additive = np.ascontiguousarray(additive).reshape(slices, mq, mk)
    index = np.arange(slices, dtype=np.int64).reshape(mask_batch)
    index = np.ascontiguousarray(np.broadcast_to(index, batch)).reshape(heads)
    return _read_only(additive), _read_only(index), int(mq != 1), int(mk != 1), True


def accepts_attention(q, k, v, mask=None, *rest):
    """float32/float64 q, k, v of one dtype, non-empty, with a bool or float mask that
    broadcasts to the scores; anything else (float16, integer masks) goes to the reference."""
    arrays = (q, k, v)
    if any(a.dtype not in (np.float32, np.float64) or a.dtype != q.dtype or a.ndim < 2
           or 0 in a.shape for a in arrays):
        return False
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        return False
    if mask is not None:
        if mask.dtype != bool and mask.dtype.kind != "f":
            return False
        try:
            _batch_shape(q, k, v, mask)
            scores = np.broadcast_shapes(mask.shape[-2:], (q.shape[-2], k.shape[-2]))
        except ValueError:
            return False
        if scores != (q.shape[-2], k.shape[-2]):
            return False
    return True


def accepts_attention_backward(q, k, v, out, lse, d_out, mask=None, *rest):
    return accepts_attention(q, k, v, mask) and out.dtype == lse.dtype == d_out.dtype == q.dtype


@CATALOGUE.register("flash_attention_forward", "numba", accepts=accepts_attention)
def flash_attention_forward(q, k, v, mask=None, scale=None, causal=False):
    batch = _batch_shape(q, k, v, mask)
    (lq, d), (lk, dv), dtype = q.shape[-2:], v.shape[-2:], q.dtype
    qh, kh, vh = _as_heads(q, batch, (lq, d)), _as_heads(k, batch, (lk, d)), \
        _as_heads(v, batch, (lk, dv))
    operands = _mask_operands(mask, batch, lq, lk, dtype)
    out = np.zeros((qh.shape[0], lq, dv), dtype)
    lse = np.empty((qh.shape[0], lq), dtype)
    _run(_forward_blocks, qh.shape[0] * lq * lk * d, qh, kh, vh, *operands,
         dtype.type(_resolve_scale(q, scale)), bool(causal), _exp_constants(dtype), out, lse)
    return out.reshape(batch + (lq, dv)), lse.reshape(batch + (lq,))


@CATALOGUE.register("flash_attention_backward", "numba", accepts=accepts_attention_backward)
def flash_attention_backward(q, k, v, out, lse, d_out, mask=None, scale=None, causal=False):
    batch = _batch_shape(q, k, v, mask)
    (lq, d), (lk, dv), dtype = q.shape[-2:], v.shape[-2:], q.dtype
    qh, kh, vh = _as_heads(q, batch, (lq, d)), _as_heads(k, batch, (lk, d)), \
        _as_heads(v, batch, (lk, dv))
    outh, doh = _as_heads(out, batch, (lq, dv)), _as_heads(d_out, batch, (lq, dv))
    lseh = _as_heads(lse, batch, (lq,))
    operands = _mask_operands(mask, batch, lq, lk, dtype)
    dq, dk, d_v = np.zeros_like(qh), np.zeros_like(kh), np.zeros_like(vh)
    _run(_backward_blocks, qh.shape[0] * lq * lk * d, qh, kh, vh, outh, lseh, doh, *operands,
         dtype.type(_resolve_scale(q, scale)), bool(causal), _exp_constants(dtype), dq, dk, d_v)
    return (dq.reshape(batch + (lq, d)), dk.reshape(batch + (lk, d)),
            d_v.reshape(batch + (lk, dv)))
