"""The model catalogue the training CLI codes against: name → how to build it, what task it
solves, which data sets it accepts and the recipe that trains it (the seed's, where a seed
gives one).

Tasks, and what a model of each task takes and returns:

``"classify"``  images (N, 1, 28, 28) float → logits (N, 10); loss ``F.cross_entropy``.
``"binary"``    images (N, 1, 28, 28) → one logit (N, 1); loss
                ``F.binary_cross_entropy_with_logits`` against float targets (N, 1).
                "mnist-binary" is MNIST with target = 1 for an odd digit, 0 for an even one
                (``models.mlp.odd_digit_target``; 50.8% odd in train, 50.7% in test).
``"reconstruct"`` images (N, 1, 28, 28) in [0, 1] → reconstructions of the same shape;
                loss ``F.mse_loss(model(x), x)`` (labels unused); ``model.encode(x)``
                gives the code (N, latent_dim) the run's latent scatter draws.
``"lm"``        ids (N, T) int64 → ``(logits (N, T, V), loss)`` from
                ``model(idx, targets)``; ``model.generate(idx, max_new_tokens,
                temperature, top_k)``. Build with ``vocab_size=`` (the CLI's char vocab).
``"seq2seq"``   ``model(src (N, S), tgt_in (N, T)) → logits (N, T, V)``; targets are
                tgt shifted left; ``model.greedy_decode(src, max_len, bos, eos)``. The
                Shakespeare task: a line → the next line. Build with ``vocab_size=`` (which
                must include the CLI's pad/bos/eos ids) and ``pad_idx=``.

Recipes are dicts with at least ``optimizer`` ("sgd" | "adam" | "adamw"), ``lr``,
``batch_size``, ``normalize`` ("unit": x/255; "mnist-0.5": (x/255 − 0.5)/0.5;
"standard": (x/255 − mean)/std of the data set; None for text) and ``seed_ref`` (seed and
section, docs/seeds.md), plus either ``epochs`` (image tasks) or ``iters`` (text tasks:
random windows, no epochs).
Optional keys: ``momentum``, ``nesterov``, ``weight_decay``, ``betas``, ``schedule``
("cosine": cosine annealing over the whole run, per step), ``grad_clip`` (max global norm),
``val_split`` (fraction of the training set held out), ``block_size`` (text window),
``loss``, ``reported`` (the seed's numbers) and ``note``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from minigrad import nn

from .autoencoder import ConvAutoencoder
from .cnn import SeedCNN
from .gpt import GPT, GPTConfig
from .mlp import SeedBinaryMLP, SeedMLP
from .resnet import SmallResNet, resnet18, resnet34, resnet50
from .rnn import CharRNN
from .transformer import Seq2SeqTransformer

__all__ = ["ModelSpec", "MODELS", "get_spec"]


@dataclass(frozen=True)
class ModelSpec:
    name: str                 # CLI name
    build: Callable[..., nn.Module]   # build(**overrides) -> Module (vocab_size etc. passed by the CLI for text tasks)
    task: str                 # "classify" (images → 10 classes) | "binary" (images → 1 logit) | "reconstruct" (images → images) | "lm" (chars → next char) | "seq2seq" (line → next line)
    datasets: tuple           # allowed dataset names; the first is the default ("mnist", "fashion-mnist", "mnist-binary", "shakespeare")
    recipe: dict              # the seed's recipe: {"optimizer": "sgd"|"adam", "lr": ..., "momentum": ..., "batch_size": ..., "epochs": ..., "normalize": "unit"|"mnist-0.5"|"standard", "seed_ref": ..., ...}
    description: str


def _with_defaults(factory, **defaults):
    """build(**overrides): ``factory(**{**defaults, **overrides})``."""
    def build(**overrides):
        return factory(**{**defaults, **overrides})
    build.__doc__ = f"{factory.__name__}(**{defaults!r} updated by the overrides)"
    return build


def _imagenet_resnet(factory):
    """An ImageNet ResNet resized for the 28×28 greyscale sets: 1 input channel, 10 classes."""
    return _with_defaults(factory, num_classes=10, in_channels=1)


def _char_rnn(cell):
    def build(vocab_size, **overrides):
        return CharRNN(vocab_size, **{"embed_dim": 64, "hidden_size": 256, "num_layers": 2,
                                      "cell": cell, "dropout": 0.0, **overrides})
    return build


def _gpt(vocab_size, **overrides):
    fields = {"block_size": 64, "n_layer": 2, "n_head": 4, "n_embd": 128, "dropout": 0.0,
              "bias": True, **overrides}
    return GPT(GPTConfig(vocab_size=vocab_size, **fields))


# Seed 003's size; the registry's default is the CPU size below it.
TRANSFORMER_SEED_SIZE = {"d_model": 512, "nhead": 8, "num_layers": 2, "dim_feedforward": 2048,
                         "dropout": 0.1}
TRANSFORMER_CPU_SIZE = {"d_model": 128, "nhead": 4, "num_layers": 2, "dim_feedforward": 512,
                        "dropout": 0.1, "max_len": 256}


def _seq2seq(vocab_size=None, src_vocab=None, tgt_vocab=None, size="cpu", **overrides):
    """``size`` "cpu" (default) or "seed" (docs/seeds.md#seed-003: d_model 512); one shared
    ``vocab_size`` or separate ``src_vocab``/``tgt_vocab``."""
    if size not in ("cpu", "seed"):
        raise ValueError(f"size must be 'cpu' or 'seed', got {size!r}")
    src_vocab = src_vocab if src_vocab is not None else vocab_size
    tgt_vocab = tgt_vocab if tgt_vocab is not None else vocab_size
    if src_vocab is None or tgt_vocab is None:
        raise TypeError("the transformer needs vocab_size= (or src_vocab= and tgt_vocab=)")
    preset = TRANSFORMER_SEED_SIZE if size == "seed" else TRANSFORMER_CPU_SIZE
    return Seq2SeqTransformer(src_vocab, tgt_vocab, **{**preset, **overrides})


_IMAGES = ("mnist", "fashion-mnist")
_TEXT = ("shakespeare",)

_IMAGENET_RESNET_RECIPE = {
    "optimizer": "sgd", "lr": 0.001, "momentum": 0.9, "batch_size": 64, "epochs": 5,
    "normalize": "standard", "loss": "cross_entropy", "seed_ref": "000 §4.3",
    "note": "The seed fine-tunes a pretrained ResNet-50 on ImageNet 224×224 with SGD lr "
            "0.001 for 100 iterations; no ImageNet or pretrained weights reach this machine, "
            "so this trains from scratch on 28×28 images (the 7×7/2 stem and max-pool take "
            "28 → 7; layer4 runs at 1×1). Slow on CPU; resnet-small is the 28×28 design.",
}

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    ModelSpec(
        name="mlp", build=_with_defaults(SeedMLP), task="classify", datasets=_IMAGES,
        recipe={"optimizer": "sgd", "lr": 0.001, "momentum": 0.9, "batch_size": 64,
                "epochs": 10, "normalize": "mnist-0.5", "loss": "cross_entropy",
                "seed_ref": "004 §5.2",
                "reported": "loss 1.7276 → 0.2929, test accuracy 98.0%"},
        description="Seed 004's MLP 784-256-128-10 with ReLU (235,146 parameters)."),
    ModelSpec(
        name="binary-mlp", build=_with_defaults(SeedBinaryMLP), task="binary",
        datasets=("mnist-binary",),
        recipe={"optimizer": "adam", "lr": 0.001, "batch_size": 32, "epochs": 10,
                "normalize": "unit", "loss": "binary_cross_entropy_with_logits",
                "val_split": 0.1, "seed_ref": "002 §5.2",
                "reported": "test accuracy 92.0% (the seed's task is unspecified)",
                "note": "Keras defaults: Adam lr 0.001, batch 32; the seed passes separate "
                        "validation data, here 10% of the training set."},
        description="Seed 002's classifier 784-128-64-1 (ReLU, sigmoid output as a logit) "
                    "for MNIST odd vs even digit (108,801 parameters)."),
    ModelSpec(
        name="cnn", build=_with_defaults(SeedCNN, dense=64), task="classify", datasets=_IMAGES,
        recipe={"optimizer": "adam", "lr": 0.001, "batch_size": 64, "epochs": 10,
                "normalize": "unit", "loss": "cross_entropy", "val_split": 0.2,
                "seed_ref": "001 §5.2", "reported": "test accuracy ≈ 98%",
                "note": "Adam lr 0.001 is Keras's default; build(dense=128) for the seed's "
                        "other width."},
        description="Seed 001's CNN Conv32-Pool-Conv64-Pool-Dense(64)-Dense(10) "
                    "(121,930 parameters; 225,034 with dense=128)."),
    ModelSpec(
        name="resnet-small", build=_with_defaults(SmallResNet), task="classify",
        datasets=("fashion-mnist", "mnist"),
        recipe={"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True,
                "weight_decay": 5e-4, "batch_size": 128, "epochs": 10, "schedule": "cosine",
                "normalize": "standard", "loss": "cross_entropy",
                "seed_ref": "000 §4.3 (residual connections)",
                "target": "≥ 92% Fashion-MNIST test accuracy",
                "note": "Not a seed experiment: the residual design of seed 000 sized for "
                        "28×28. SGD lr 0.1 with Nesterov momentum, weight decay 5e-4 and "
                        "per-step cosine decay to 0 over 10 epochs; no augmentation."},
        description="ResNet for 28×28: 3×3 stem, BasicBlock stages 32/64/128 at 14/7/4 px, "
                    "global average pool (309,162 parameters)."),
    ModelSpec(
        name="resnet18", build=_imagenet_resnet(resnet18), task="classify",
        datasets=("fashion-mnist", "mnist"), recipe=dict(_IMAGENET_RESNET_RECIPE),
        description="torchvision's ResNet-18 layout, 1 input channel, 10 classes "
                    "(11,175,370 parameters; 11,689,512 at 3 channels/1000 classes)."),
    ModelSpec(
        name="resnet34", build=_imagenet_resnet(resnet34), task="classify",
        datasets=("fashion-mnist", "mnist"), recipe=dict(_IMAGENET_RESNET_RECIPE),
        description="torchvision's ResNet-34 layout, 1 input channel, 10 classes "
                    "(21,283,530 parameters; 21,797,672 at 3 channels/1000 classes)."),
    ModelSpec(
        name="resnet50", build=_imagenet_resnet(resnet50), task="classify",
        datasets=("fashion-mnist", "mnist"), recipe=dict(_IMAGENET_RESNET_RECIPE),
        description="torchvision's ResNet-50 layout (seed 000's model), 1 input channel, "
                    "10 classes (23,522,250 parameters; 25,557,032 at 3 channels/1000 "
                    "classes)."),
    ModelSpec(
        name="autoencoder", build=_with_defaults(ConvAutoencoder), task="reconstruct",
        datasets=("mnist", "fashion-mnist"),
        recipe={"optimizer": "adam", "lr": 0.001, "batch_size": 128, "epochs": 5,
                "normalize": "unit", "loss": "mse_loss",
                "seed_ref": "001, 003 (autoencoders: self-supervised learning)",
                "note": "Not a seed experiment (the seeds name autoencoders without a "
                        "recipe): Adam lr 1e-3, MSE between reconstruction and input; a "
                        "2-D code so the run folder can draw it (--model-arg latent_dim=16 "
                        "reconstructs better)."},
        description="Convolutional autoencoder 28×28 → 2-D code → 28×28 (Conv 16/32 "
                    "stride 2, ConvTranspose back, sigmoid output; 17,411 parameters)."),
    ModelSpec(
        name="lstm", build=_char_rnn("lstm"), task="lm", datasets=_TEXT,
        recipe={"optimizer": "adam", "lr": 0.002, "batch_size": 32, "iters": 2000,
                "block_size": 64, "grad_clip": 5.0, "normalize": None,
                "loss": "cross_entropy", "seed_ref": "001 (RNN, BPTT)",
                "note": "The seeds run no RNN experiment; this is char-rnn's recipe "
                        "(lr 2e-3, gradients clipped at 5) on 64-character windows."},
        description="Character LSTM: Embedding 64 → LSTM 256 × 2 → Linear to the vocabulary."),
    ModelSpec(
        name="gru", build=_char_rnn("gru"), task="lm", datasets=_TEXT,
        recipe={"optimizer": "adam", "lr": 0.002, "batch_size": 32, "iters": 2000,
                "block_size": 64, "grad_clip": 5.0, "normalize": None,
                "loss": "cross_entropy", "seed_ref": "001 (RNN, BPTT)",
                "note": "As lstm, with GRU cells (3 gates instead of 4)."},
        description="Character GRU: Embedding 64 → GRU 256 × 2 → Linear to the vocabulary."),
    ModelSpec(
        name="transformer", build=_seq2seq, task="seq2seq", datasets=_TEXT,
        recipe={"optimizer": "adam", "lr": 0.001, "batch_size": 64, "epochs": 10,
                "normalize": None, "loss": "cross_entropy", "seed_ref": "003 §5.2",
                "model": dict(TRANSFORMER_CPU_SIZE), "seed_model": dict(TRANSFORMER_SEED_SIZE),
                "reported": "loss 2.4545 → 1.1051, accuracy 86.25% (vocab 10000)",
                "note": "Seed 003: d_model 512, nhead 8, 2 layers, Adam lr 0.001, 10 epochs "
                        "(build(size='seed')). The default build is the CPU size in 'model' "
                        "(d_model 128, 4 heads, 0.95 M parameters at 65 symbols). An epoch "
                        "is one pass over the (line, next line) pairs of the training text; "
                        "cut it with 'iters' where a CPU run must be short."},
        description="Seed 003's encoder-decoder Transformer (sinusoidal positions, causal "
                    "decoder, batch_first) for line → next line; greedy_decode."),
    ModelSpec(
        name="gpt", build=_gpt, task="lm", datasets=_TEXT,
        recipe={"optimizer": "adamw", "lr": 0.001, "betas": (0.9, 0.99),
                "weight_decay": 0.1, "batch_size": 32, "iters": 2000, "block_size": 64,
                "schedule": "cosine", "grad_clip": 1.0, "normalize": None,
                "loss": "cross_entropy", "seed_ref": "003 §3.2, §4 (attention)",
                "note": "nanoGPT's shakespeare_char recipe (AdamW lr 1e-3, betas 0.9/0.99, "
                        "decay 0.1 on matrices only: model.configure_optimizers) at CPU size: "
                        "2 layers × 128, 4 heads, context 64."},
        description="Decoder-only character GPT: learned positions, pre-norm blocks, "
                    "causal SDPA, tied lm_head (413,312 parameters at 65 symbols)."),
)}


def get_spec(name) -> ModelSpec:
    """The spec called ``name``; ValueError naming the valid ones otherwise."""
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model {name!r}; valid models: "
                         f"{', '.join(MODELS)}") from None
