"""The three flash-attention kernel factories behind ``attention.py`` (formulas, shapes and
layouts are in its docstring).  Every factory takes the tile sizes ``BQ`` (query rows per
tile), ``BK`` (keys per tile), the head dims ``D``, ``DV`` (compile-time: the per-thread
register arrays are sized by them) and ``G``, the threads that share one row: thread g
of a row owns columns ``[g·D/G, (g+1)·D/G)`` of q / dQ / dK and ``[g·DV/G, …)`` of the
output / dV, so a thread holds D/G + DV/G accumulators (G = 2 keeps D = 128 in registers).
The G partial dot products of a score meet in shared memory (``part``) after a barrier.

Scalars the kernels take: ``mask (M, mq, mk)`` additive float32, ``mask_index (H,)``,
``row_step``, ``col_step`` (0 on broadcast mask axes), ``has_mask``, ``causal``, ``scale``.
"""
import math

from numba import cuda, float32

from ._launch import NEG_INF, kernel_jit

ZERO = float32(0.0)
ONE = float32(1.0)


def _split(D, DV, G):
    if G < 1 or D % G or DV % G:
        raise ValueError(f"G={G} threads per row must divide the head dims D={D} and DV={DV}")
    return D // G, DV // G


def make_flash_forward(BQ, BK, D, DV, G=1):
    """``kernel[(⌈Lq/BQ⌉, H), BQ·G](q, k, v, mask, mask_index, row_step, col_step, has_mask,
    causal, scale, out, lse)``: online softmax over key tiles; ``out (H, Lq, DV)``,
    ``lse (H, Lq)``.  Shared: BK·(D + DV) + G·BK·BQ floats."""
    CD, CV = _split(D, DV, G)
    threads = BQ * G
    k_size, v_size, part_size = BK * D, BK * DV, G * BK * BQ     # constants for shared.array

    @kernel_jit(threads)
    def flash_forward(q, k, v, mask, mask_index, row_step, col_step, has_mask, causal, scale,
                      out, lse):
        h = cuda.blockIdx.y
        t = cuda.threadIdx.x
        g = t // BQ
        r = t - g * BQ
        lq = q.shape[1]
        lk = k.shape[1]
        q0 = cuda.blockIdx.x * BQ
        i = q0 + r
        live = i < lq
        row = i if live else lq - 1                  # dead threads still stage and sync
        k_tile = cuda.shared.array(k_size, float32)
        v_tile = cuda.shared.array(v_size, float32)
        part = cuda.shared.array(part_size, float32)    # part[(g·BK + j)·BQ + r]
        q_reg = cuda.local.array(CD, float32)
        acc = cuda.local.array(CV, float32)
        q_from = q[h, row, g * CD:]
        for c in range(CD):
            q_reg[c] = q_from[c]
        for c in range(CV):
            acc[c] = ZERO
        m = NEG_INF
        total = ZERO
        mi = mask_index[h]
        mrow = row * row_step
        end = min(lk, q0 + BQ) if causal else lk
        for k0 in range(0, end, BK):
            for e in range(t, BK * D, threads):
                j = e // D
                value = ZERO
                if k0 + j < lk:
                    value = k[h, k0 + j, e - j * D]
                k_tile[e] = value
            for e in range(t, BK * DV, threads):
                j = e // DV
                value = ZERO
                if k0 + j < lk:
                    value = v[h, k0 + j, e - j * DV]
                v_tile[e] = value
            cuda.syncthreads()
            for j in range(BK):
                k_row = k_tile[j * D + g * CD:]
                dot = ZERO
                for c in range(CD):
                    dot += q_reg[c] * k_row[c]
                part[(g * BK + j) * BQ + r] = dot
            cuda.syncthreads()
            tile_max = NEG_INF
            for j in range(BK):
                kj = k0 + j
                if kj < lk and not (causal and kj > i):
                    dot = ZERO
                    for gg in range(G):
                        dot += part[(gg * BK + j) * BQ + r]
                    score = dot * scale
                    if has_mask:
                        score += mask[mi, mrow, kj * col_step]
                    tile_max = max(tile_max, score)
            m_new = max(m, tile_max)
            shift = m_new if m_new != NEG_INF else ZERO    # all −∞ so far: every exp is 0
            correction = math.exp(m - shift)
            total *= correction
            for c in range(CV):
                acc[c] *= correction
            for j in range(BK):
                kj = k0 + j
                if kj < lk and not (causal and kj > i):
                    dot = ZERO
                    for gg in range(G):
                        dot += part[(gg * BK + j) * BQ + r]
                    score = dot * scale
                    if has_mask:
                        score += mask[mi, mrow, kj * col_step]
                    p = math.exp(score - shift)
                    total += p
                    v_row = v_tile[j * DV + g * CV:]
                    for c in range(CV):
                        acc[c] += p * v_row[c]
            m = m_new
            cuda.syncthreads()
        if live:
            out_to = out[h, i, g * CV:]
            if total > ZERO:
                inverse = ONE / total
                for c in range(CV):
                    out_to[c] = acc[c] * inverse
                if g == 0:
                    lse[h, i] = m + math.log(total)
            else:
                for c in range(CV):
                    out_to[c] = ZERO
                if g == 0:
                    lse[h, i] = NEG_INF

    flash_forward.tiles = dict(BQ=BQ, BK=BK, D=D, DV=DV, G=G)
    flash_forward.shared_bytes = 4 * (k_size + v_size + part_size)
    return flash_forward


def make_flash_backward_kv(BQ, BK, D, DV, G=1):
    """``kernel[(⌈Lk/BK⌉, H), BK·G](q, k, v, d_out, lse, delta, mask, mask_index, row_step,
    col_step, has_mask, causal, scale, dk, dv)``: dK = dSᵀ Q·s, dV = Pᵀ dO, G threads per
    key, looping over query tiles.  Shared: (BK + BQ)·(D + DV) + 2·BQ + 2·G·BQ·BK floats."""
    CD, CV = _split(D, DV, G)
    threads = BK * G
    k_size, v_size, q_size, do_size = D * BK, DV * BK, BQ * D, BQ * DV
    part_size = G * BQ * BK

    @kernel_jit(threads)
    def flash_backward_kv(q, k, v, d_out, lse, delta, mask, mask_index, row_step, col_step,
                          has_mask, causal, scale, dk, dv):
        h = cuda.blockIdx.y
        t = cuda.threadIdx.x
        g = t // BK
        jl = t - g * BK
        lq = q.shape[1]
        lk = k.shape[1]
        k0 = cuda.blockIdx.x * BK
        j = k0 + jl
        live = j < lk
        col = j if live else lk - 1
        k_cols = cuda.shared.array(k_size, float32)      # Kᵀ: k_cols[c·BK + jl]
        v_cols = cuda.shared.array(v_size, float32)
        q_tile = cuda.shared.array(q_size, float32)
        do_tile = cuda.shared.array(do_size, float32)
        lse_tile = cuda.shared.array(BQ, float32)
        delta_tile = cuda.shared.array(BQ, float32)
        part_s = cuda.shared.array(part_size, float32)   # [(g·BQ + r)·BK + jl]
        part_dp = cuda.shared.array(part_size, float32)
        dk_acc = cuda.local.array(CD, float32)
        dv_acc = cuda.local.array(CV, float32)
        k_from = k[h, col, g * CD:]
        v_from = v[h, col, g * CV:]
        k_mine = k_cols[g * CD * BK + jl:]               # k_mine[c·BK] = K[j, g·CD + c]
        v_mine = v_cols[g * CV * BK + jl:]
        for c in range(CD):
            k_mine[c * BK] = k_from[c]
            dk_acc[c] = ZERO
        for c in range(CV):
            v_mine[c * BK] = v_from[c]
            dv_acc[c] = ZERO
        mi = mask_index[h]
        mcol = col * col_step
        start = (k0 // BQ) * BQ if causal else 0     # causal: queries i ≥ k0 only
        for i0 in range(start, lq, BQ):
            for e in range(t, BQ * D, threads):
                r = e // D
                value = ZERO
                if i0 + r < lq:
                    value = q[h, i0 + r, e - r * D]
                q_tile[e] = value
            for e in range(t, BQ * DV, threads):
                r = e // DV
                value = ZERO
                if i0 + r < lq:
                    value = d_out[h, i0 + r, e - r * DV]
                do_tile[e] = value
            for r in range(t, BQ, threads):
                row_lse = NEG_INF
                row_delta = ZERO
                if i0 + r < lq:
                    row_lse = lse[h, i0 + r]
                    row_delta = delta[h, i0 + r]
                lse_tile[r] = row_lse
                delta_tile[r] = row_delta
            cuda.syncthreads()
            for r in range(BQ):                      # partial q·k and dO·v over own columns
                q_row = q_tile[r * D + g * CD:]
                do_row = do_tile[r * DV + g * CV:]
                dot = ZERO
                for c in range(CD):
                    dot += q_row[c] * k_mine[c * BK]
                dp = ZERO
                for c in range(CV):
                    dp += do_row[c] * v_mine[c * BK]
                part_s[(g * BQ + r) * BK + jl] = dot
                part_dp[(g * BQ + r) * BK + jl] = dp
            cuda.syncthreads()
            for r in range(BQ):
                i = i0 + r
                row_lse = lse_tile[r]
                if row_lse != NEG_INF and not (causal and j > i):
                    dot = ZERO
                    dp = ZERO
                    for gg in range(G):
                        dot += part_s[(gg * BQ + r) * BK + jl]
                        dp += part_dp[(gg * BQ + r) * BK + jl]
                    score = dot * scale
                    if has_mask:
                        score += mask[mi, i * row_step, mcol]
                    p = math.exp(score - row_lse)
                    ds = p * (dp - delta_tile[r])
                    q_row = q_tile[r * D + g * CD:]
                    do_row = do_tile[r * DV + g * CV:]
                    for c in range(CV):
                        dv_acc[c] += p * do_row[c]
                    for c in range(CD):
                        dk_acc[c] += ds * q_row[c]
            cuda.syncthreads()
        if live:
            dk_to = dk[h, j, g * CD:]
            dv_to = dv[h, j, g * CV:]
            for c in range(CD):
                dk_to[c] = dk_acc[c] * scale
            for c in range(CV):
                dv_to[c] = dv_acc[c]

    flash_backward_kv.tiles = dict(BQ=BQ, BK=BK, D=D, DV=DV, G=G)
    flash_backward_kv.shared_bytes = 4 * (k_size + v_size + q_size + do_size + 2 * BQ
                                          + 2 * part_size)
    return flash_backward_kv


def make_flash_backward_q(BQ, BK, D, DV, G=1):
    """``kernel[(⌈Lq/BQ⌉, H), BQ·G](q, k, v, d_out, lse, delta, mask, mask_index, row_step,
    col_step, has_mask, causal, scale, dq)``: dQ = dS K·s, G threads per query row, looping
    over key tiles.  Shared: DV·BQ + BK·(D + DV) + 2·G·BK·BQ floats."""
    CD, CV = _split(D, DV, G)
    threads = BQ * G
    do_size, k_size, v_size, part_size = DV * BQ, BK * D, BK * DV, G * BK * BQ

    @kernel_jit(threads)
    def flash_backward_q(q, k, v, d_out, lse, delta, mask, mask_index, row_step, col_step,
                         has_mask, causal, scale, dq):
        h = cuda.blockIdx.y
        t = cuda.threadIdx.x
        g = t // BQ
        r = t - g * BQ
        lq = q.shape[1]
        lk = k.shape[1]
        q0 = cuda.blockIdx.x * BQ
        i = q0 + r
        live = i < lq
        row = i if live else lq - 1
        do_cols = cuda.shared.array(do_size, float32)    # dOᵀ: do_cols[c·BQ + r]
        k_tile = cuda.shared.array(k_size, float32)
        v_tile = cuda.shared.array(v_size, float32)
        part_s = cuda.shared.array(part_size, float32)   # [(g·BK + j)·BQ + r]
        part_dp = cuda.shared.array(part_size, float32)
        q_reg = cuda.local.array(CD, float32)
        dq_acc = cuda.local.array(CD, float32)
        q_from = q[h, row, g * CD:]
        for c in range(CD):
            q_reg[c] = q_from[c]
            dq_acc[c] = ZERO
        do_from = d_out[h, row, g * CV:]
        do_mine = do_cols[g * CV * BQ + r:]              # do_mine[c·BQ] = dO[i, g·CV + c]
        for c in range(CV):
            do_mine[c * BQ] = do_from[c]
        row_lse = lse[h, row]
        row_delta = delta[h, row]
        mi = mask_index[h]
        mrow = row * row_step
        end = min(lk, q0 + BQ) if causal else lk
        for k0 in range(0, end, BK):
            for e in range(t, BK * D, threads):
                jj = e // D
                value = ZERO
                if k0 + jj < lk:
                    value = k[h, k0 + jj, e - jj * D]
                k_tile[e] = value
            for e in range(t, BK * DV, threads):
                jj = e // DV
                value = ZERO
                if k0 + jj < lk:
                    value = v[h, k0 + jj, e - jj * DV]
                v_tile[e] = value
            cuda.syncthreads()
            for jj in range(BK):                     # partial q·k and dO·v over own columns
                k_row = k_tile[jj * D + g * CD:]
                v_row = v_tile[jj * DV + g * CV:]
                dot = ZERO
                for c in range(CD):
                    dot += q_reg[c] * k_row[c]
                dp = ZERO
                for c in range(CV):
                    dp += do_mine[c * BQ] * v_row[c]
                part_s[(g * BK + jj) * BQ + r] = dot
                part_dp[(g * BK + jj) * BQ + r] = dp
            cuda.syncthreads()
            if live and row_lse != NEG_INF:
                for jj in range(BK):
                    kj = k0 + jj
                    if kj < lk and not (causal and kj > i):
                        dot = ZERO
                        dp = ZERO
                        for gg in range(G):
                            dot += part_s[(gg * BK + jj) * BQ + r]
                            dp += part_dp[(gg * BK + jj) * BQ + r]
                        score = dot * scale
                        if has_mask:
                            score += mask[mi, mrow, kj * col_step]
                        ds = math.exp(score - row_lse) * (dp - row_delta)
                        k_row = k_tile[jj * D + g * CD:]
                        for c in range(CD):
                            dq_acc[c] += ds * k_row[c]
            cuda.syncthreads()
        if live:
            dq_to = dq[h, i, g * CD:]
            for c in range(CD):
                dq_to[c] = dq_acc[c] * scale

    flash_backward_q.tiles = dict(BQ=BQ, BK=BK, D=D, DV=DV, G=G)
    flash_backward_q.shared_bytes = 4 * (do_size + k_size + v_size + 2 * part_size)
    return flash_backward_q
