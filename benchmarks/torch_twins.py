"""PyTorch twins of the models in ``models/``, written independently with ``torch.nn`` in the
same layout (parameter names and shapes equal to the minigrad model's), so that loading one
model's state_dict into the other makes them compute the same function. Shared by the
tests (oracle comparisons) and the benchmarks (same-run speed and accuracy comparisons).
Needs torch; nothing in minigrad imports this module.
"""
import math

import torch
import torch.nn as tnn
import torch.nn.functional as TF

__all__ = ["TorchSeedMLP", "torch_seed_cnn", "TorchBasicBlock", "TorchBottleneck", "TorchResNet",
           "TorchSmallResNet", "randomise_batchnorm", "TorchCharRNN", "TorchSeq2Seq", "TorchGPT"]


# ---------------------------------------------------------------- dense and conv nets
class TorchSeedMLP(tnn.Module):
    def __init__(self, hidden=(256, 128), out=10):
        super().__init__()
        self.flatten = tnn.Flatten()
        self.fc1, self.fc2 = tnn.Linear(784, hidden[0]), tnn.Linear(hidden[0], hidden[1])
        self.fc3 = tnn.Linear(hidden[1], out)
        self.relu = tnn.ReLU()

    def forward(self, x):
        return self.fc3(self.relu(self.fc2(self.relu(self.fc1(self.flatten(x))))))


def torch_seed_cnn(dense=64):
    net = tnn.Module()
    net.features = tnn.Sequential(tnn.Conv2d(1, 32, 3), tnn.ReLU(), tnn.MaxPool2d(2),
                                  tnn.Conv2d(32, 64, 3), tnn.ReLU(), tnn.MaxPool2d(2))
    net.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(1600, dense), tnn.ReLU(),
                                    tnn.Linear(dense, 10))
    net.forward = lambda x: net.classifier(net.features(x))
    return net


# ---------------------------------------------------------------- ResNet (torchvision's)
class TorchBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class TorchBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


def _torch_stage(block, inplanes, planes, blocks, stride):
    downsample = None
    if stride != 1 or inplanes != planes * block.expansion:
        downsample = tnn.Sequential(
            tnn.Conv2d(inplanes, planes * block.expansion, 1, stride, bias=False),
            tnn.BatchNorm2d(planes * block.expansion))
    layers = [block(inplanes, planes, stride, downsample)]
    layers += [block(planes * block.expansion, planes) for _ in range(1, blocks)]
    return tnn.Sequential(*layers), planes * block.expansion


class TorchResNet(tnn.Module):
    def __init__(self, block, layers, num_classes=1000, in_channels=3):
        super().__init__()
        self.conv1 = tnn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        c = 64
        self.layer1, c = _torch_stage(block, c, 64, layers[0], 1)
        self.layer2, c = _torch_stage(block, c, 128, layers[1], 2)
        self.layer3, c = _torch_stage(block, c, 256, layers[2], 2)
        self.layer4, c = _torch_stage(block, c, 512, layers[3], 2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(c, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TorchSmallResNet(tnn.Module):
    def __init__(self, widths=(32, 64, 128), blocks=(1, 1, 1), strides=(2, 2, 2),
                 num_classes=10):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, widths[0], 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(widths[0])
        self.relu = tnn.ReLU()
        c = widths[0]
        self.layer1, c = _torch_stage(TorchBasicBlock, c, widths[0], blocks[0], strides[0])
        self.layer2, c = _torch_stage(TorchBasicBlock, c, widths[1], blocks[1], strides[1])
        self.layer3, c = _torch_stage(TorchBasicBlock, c, widths[2], blocks[2], strides[2])
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(c, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def randomise_batchnorm(torch_model, generator):
    """Non-trivial BN affine parameters and running statistics (init has 1, 0, 0, 1), so an
    eval-mode comparison exercises every term."""
    with torch.no_grad():
        for m in torch_model.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.uniform_(-0.2, 0.2, generator=generator)
                m.running_mean.uniform_(-0.2, 0.2, generator=generator)
                m.running_var.uniform_(0.5, 1.5, generator=generator)


# ---------------------------------------------------------------- sequence models
class TorchCharRNN(tnn.Module):
    def __init__(self, vocab, embed_dim, hidden, layers, cell):
        super().__init__()
        self.embedding = tnn.Embedding(vocab, embed_dim)
        self.rnn = {"lstm": tnn.LSTM, "gru": tnn.GRU}[cell](embed_dim, hidden, layers,
                                                           batch_first=True)
        self.dropout = tnn.Dropout(0.0)
        self.head = tnn.Linear(hidden, vocab)

    def forward(self, idx):
        return self.head(self.rnn(self.embedding(idx))[0])


class TorchSeq2Seq(tnn.Module):
    """``pad_idx`` as ``models.transformer.Seq2SeqTransformer``'s: when set, padded source and
    target positions are masked out of attention (key padding masks; the causal mask is then
    boolean too, so all masks are one kind)."""

    def __init__(self, src_vocab, tgt_vocab, d_model, nhead, num_layers, ff, max_len,
                 pad_idx=None):
        super().__init__()
        self.d_model, self.pad_idx = d_model, pad_idx
        self.src_embedding = tnn.Embedding(src_vocab, d_model)
        self.tgt_embedding = tnn.Embedding(tgt_vocab, d_model)
        self.transformer = tnn.Transformer(d_model, nhead, num_layers, num_layers, ff, 0.0,
                                           batch_first=True)
        self.generator = tnn.Linear(d_model, tgt_vocab)
        pos = torch.arange(max_len, dtype=torch.float32)[:, None]
        div = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, src, tgt):
        scale = math.sqrt(self.d_model)
        s = self.src_embedding(src) * scale + self.pe[:src.shape[1]]
        t = self.tgt_embedding(tgt) * scale + self.pe[:tgt.shape[1]]
        if self.pad_idx is None:
            mask = tnn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
            return self.generator(self.transformer(s, t, tgt_mask=mask, tgt_is_causal=True))
        mask = torch.ones(tgt.shape[1], tgt.shape[1], dtype=torch.bool).triu(1)
        src_pad, tgt_pad = src == self.pad_idx, tgt == self.pad_idx
        return self.generator(self.transformer(
            s, t, tgt_mask=mask, tgt_is_causal=True, src_key_padding_mask=src_pad,
            tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad))


class TorchGPT(tnn.Module):
    """nanoGPT's model written out (pre-norm, causal SDPA, tied head)."""

    def __init__(self, vocab, block, n_layer, n_head, n_embd):
        super().__init__()
        self.n_head = n_head
        blocks = []
        for _ in range(n_layer):
            b = tnn.Module()
            b.ln_1, b.ln_2 = tnn.LayerNorm(n_embd), tnn.LayerNorm(n_embd)
            b.attn = tnn.Module()
            b.attn.c_attn = tnn.Linear(n_embd, 3 * n_embd)
            b.attn.c_proj = tnn.Linear(n_embd, n_embd)
            b.mlp = tnn.Module()
            b.mlp.c_fc = tnn.Linear(n_embd, 4 * n_embd)
            b.mlp.c_proj = tnn.Linear(4 * n_embd, n_embd)
            blocks.append(b)
        self.transformer = tnn.ModuleDict(dict(
            wte=tnn.Embedding(vocab, n_embd), wpe=tnn.Embedding(block, n_embd),
            h=tnn.ModuleList(blocks), ln_f=tnn.LayerNorm(n_embd)))
        self.lm_head = tnn.Linear(n_embd, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx):
        B, T = idx.shape
        positions = torch.arange(T, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(positions)
        for b in self.transformer.h:
            C = x.shape[-1]
            q, k, v = b.attn.c_attn(b.ln_1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
            y = TF.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + b.attn.c_proj(y.transpose(1, 2).reshape(B, T, C))
            x = x + b.mlp.c_proj(TF.gelu(b.mlp.c_fc(b.ln_2(x))))
        return self.lm_head(self.transformer.ln_f(x))
