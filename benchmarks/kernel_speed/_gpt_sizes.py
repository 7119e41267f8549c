"""The sizes the kernel table measures: the CPU GPT of ``benchmarks/model_step.py`` (batch 16
× context 64, width 128, 4 heads, vocabulary 65, MLP hidden 4 × 128) and the seed MLP's
64 × 10 logits.  Shared by the family files so their rows describe the same model."""
import numpy as np

BATCH, CONTEXT, WIDTH, HEADS, VOCAB, HIDDEN = 16, 64, 128, 4, 65, 512
MLP_BATCH, MLP_CLASSES = 64, 10
TOKENS = BATCH * CONTEXT


def normal(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def class_ids(shape, classes, seed=1):
    return np.random.default_rng(seed).integers(0, classes, shape).astype(np.int64)
