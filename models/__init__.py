"""Models built only from minigrad's public API (``import minigrad as mg``, ``minigrad.nn``,
``minigrad.nn.functional``): the seeds' experiments (docs/seeds.md) and the classic architectures.

==================  ================================================================
``mlp``             SeedMLP (seed 004, 784-256-128-10), SeedBinaryMLP (seed 002)
``cnn``             SeedCNN (seed 001, Conv32-Pool-Conv64-Pool-Dense-Dense)
``resnet``          BasicBlock, Bottleneck, ResNet, resnet18/34/50 (torchvision's
                    layout and state_dict; seed 000), SmallResNet for 28×28
``rnn``             CharRNN (LSTM/GRU character language model)
``transformer``     Seq2SeqTransformer (seed 003, encoder-decoder)
``gpt``             GPTConfig, GPT (decoder-only character model, tied embeddings)
``sampling``        sample_next_token (temperature, top-k; minigrad's seeded generator)
``registry``        ModelSpec, MODELS, get_spec: what the training CLI builds and how it
                    trains each model
==================  ================================================================

Reading order: mlp → cnn → resnet → rnn → transformer → gpt, then registry.
"""
from .mlp import SeedMLP, SeedBinaryMLP, odd_digit_target
from .cnn import SeedCNN
from .resnet import (BasicBlock, Bottleneck, ResNet, SmallResNet, resnet18, resnet34,
                     resnet50)
from .rnn import CharRNN
from .transformer import Seq2SeqTransformer, sinusoidal_positional_encoding
from .gpt import GPT, GPTConfig
from .sampling import sample_next_token
from .registry import MODELS, ModelSpec, get_spec

__all__ = ["SeedMLP", "SeedBinaryMLP", "odd_digit_target", "SeedCNN", "BasicBlock",
           "Bottleneck", "ResNet", "SmallResNet", "resnet18", "resnet34", "resnet50",
           "CharRNN", "Seq2SeqTransformer", "sinusoidal_positional_encoding", "GPT",
           "GPTConfig", "sample_next_token", "MODELS", "ModelSpec", "get_spec"]
