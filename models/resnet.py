"""Residual networks (He et al. 2015) with torchvision's exact layout, and a small one for 28×28.

Seed 000 (docs/seeds.md#seed-000) fine-tunes a ResNet-50 on 224×224 ImageNet images. The building idea is the
residual connection: a block learns F(x) and outputs ``relu(F(x) + shortcut(x))``, so the
gradient reaches earlier layers through the identity path (∂out/∂x = ∂F/∂x + I before the
ReLU) and very deep stacks still train.

BasicBlock (ResNet-18/34; ``expansion = 1``)::

    x ─conv3x3(stride)─bn─relu─conv3x3─bn─(+)─relu→      shortcut: x, or downsample(x) =
    └──────────────── shortcut ────────────┘             conv1x1(stride) + bn when the
                                                          shape changes
Bottleneck (ResNet-50; ``expansion = 4``; the stride sits on the 3×3 conv, "ResNet v1.5")::

    x ─conv1x1─bn─relu─conv3x3(stride)─bn─relu─conv1x1 (×4 channels)─bn─(+)─relu→

ResNet (input (N, 3, 224, 224), shapes for ResNet-50)::

    conv1 7×7/2, 64 ─bn1─relu   (N, 64, 112, 112)
    maxpool 3×3/2               (N, 64, 56, 56)
    layer1  (stride 1)          (N, 256, 56, 56)      BasicBlock: 64 channels
    layer2  (stride 2)          (N, 512, 28, 28)                  128
    layer3  (stride 2)          (N, 1024, 14, 14)                 256
    layer4  (stride 2)          (N, 2048, 7, 7)                   512
    avgpool (adaptive 1×1), flatten, fc → (N, num_classes)

Blocks per stage: ResNet-18 (2,2,2,2), -34 (3,4,6,3), -50 (3,4,6,3) with Bottleneck.
Parameters (num_classes=1000): ResNet-18 11,689,512; ResNet-34 21,797,672;
ResNet-50 25,557,032 — the same as torchvision, whose state_dict names (``conv1``, ``bn1``,
``layer1.0.conv1``, ``layer2.0.downsample.0``/``.1``, ``fc`` …) these modules reproduce, so
torchvision weights load with ``model.load_state_dict({k: v.numpy() for k, v in sd.items()})``.
Initialisation is torchvision's: every conv ``kaiming_normal_(mode="fan_out",
nonlinearity="relu")`` (std = √2/√(out·kh·kw)), BatchNorm weight 1 and bias 0, fc
PyTorch's Linear default; ``zero_init_residual=True`` zeroes the last BN weight of each
block, so each block starts as the identity.

``SmallResNet`` is the same design sized for 28×28 one-channel images (MNIST,
Fashion-MNIST): a 3×3 stem at full resolution with no max-pool, three stages of
BasicBlocks at 14×14, 7×7 and 4×4, then global average pooling.
"""
from minigrad import nn

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50",
           "SmallResNet", "conv3x3", "conv1x1"]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3×3 convolution with padding = dilation (keeps H×W at stride 1), no bias (BN follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1×1 convolution, no bias: a per-pixel linear map of the channels."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3×3 convs: (N, inplanes, H, W) → (N, planes, H/stride, W/stride)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1×1 reduce, 3×3 (carries the stride), 1×1 expand by 4:
    (N, inplanes, H, W) → (N, 4·planes, H/stride, W/stride)."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def init_resnet_(model, zero_init_residual=False):
    """torchvision's initialisation, in place: convs Kaiming-normal (fan_out, relu), BN
    weight 1 bias 0; with ``zero_init_residual`` each block's last BN weight 0."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, Bottleneck):
                nn.init.constant_(m.bn3.weight, 0)
            elif isinstance(m, BasicBlock):
                nn.init.constant_(m.bn2.weight, 0)


def make_stage(block, inplanes, planes, blocks, stride=1, norm_layer=None, groups=1,
               base_width=64):
    """``blocks`` blocks as an ``nn.Sequential``; the first carries the stride and, when the
    shape changes, the 1×1 conv + BN shortcut (``downsample.0``, ``downsample.1``).
    Returns (stage, output channels)."""
    norm_layer = norm_layer or nn.BatchNorm2d
    downsample = None
    if stride != 1 or inplanes != planes * block.expansion:
        downsample = nn.Sequential(conv1x1(inplanes, planes * block.expansion, stride),
                                   norm_layer(planes * block.expansion))
    layers = [block(inplanes, planes, stride, downsample, groups, base_width,
                    norm_layer=norm_layer)]
    inplanes = planes * block.expansion
    layers += [block(inplanes, planes, groups=groups, base_width=base_width,
                     norm_layer=norm_layer) for _ in range(1, blocks)]
    return nn.Sequential(*layers), inplanes


class ResNet(nn.Module):
    """torchvision's ResNet: ``ResNet(block, layers, num_classes=1000,
    zero_init_residual=False, groups=1, width_per_group=64, norm_layer=None)``.
    Input (N, 3, H, W) with H, W ≥ 32 (224 in the seed) → logits (N, num_classes)."""

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, norm_layer=None, in_channels=3):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = 64
        stage_args = dict(norm_layer=norm_layer, groups=groups, base_width=width_per_group)
        self.layer1, inplanes = make_stage(block, inplanes, 64, layers[0], **stage_args)
        self.layer2, inplanes = make_stage(block, inplanes, 128, layers[1], 2, **stage_args)
        self.layer3, inplanes = make_stage(block, inplanes, 256, layers[2], 2, **stage_args)
        self.layer4, inplanes = make_stage(block, inplanes, 512, layers[3], 2, **stage_args)
        self.inplanes = inplanes
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        init_resnet_(self, zero_init_residual)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(num_classes=1000, **kwargs):
    """ResNet-18: BasicBlock × (2, 2, 2, 2), 11.7 M parameters at 1000 classes."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, **kwargs)


def resnet34(num_classes=1000, **kwargs):
    """ResNet-34: BasicBlock × (3, 4, 6, 3), 21.8 M parameters at 1000 classes."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


def resnet50(num_classes=1000, **kwargs):
    """ResNet-50 (docs/seeds.md#seed-000): Bottleneck × (3, 4, 6, 3), 25.6 M parameters."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


class SmallResNet(nn.Module):
    """A ResNet for 28×28 images (shapes for the defaults)::

        conv1 3×3, widths[0] ─bn1─relu       (N, 32, 28, 28)     full-resolution stem
        layer1  blocks[0] × BasicBlock /2    (N, 32, 14, 14)
        layer2  blocks[1] × BasicBlock /2    (N, 64, 7, 7)
        layer3  blocks[2] × BasicBlock /2    (N, 128, 4, 4)      ⌈7/2⌉ = 4 (padding 1)
        avgpool (global), flatten, fc        (N, num_classes)

    Defaults widths (32, 64, 128), blocks (1, 1, 1), strides (2, 2, 2): 8 weighted layers,
    309,162 parameters, ≈ 10 M multiply-adds per image (strides (1, 2, 2) keeps layer1 at
    28×28 for 3.5× the compute). Same block, shortcut and
    initialisation as ``ResNet``; ``zero_init_residual`` defaults to True here, so every
    block starts as the identity and the net trains at a high learning rate from step one.
    The registry's "resnet-small" recipe (SGD + Nesterov lr 0.1, cosine, 10 epochs)
    reaches ≥ 92% test accuracy on Fashion-MNIST."""

    def __init__(self, num_classes=10, in_channels=1, widths=(32, 64, 128), blocks=(1, 1, 1),
                 strides=(2, 2, 2), zero_init_residual=True):
        super().__init__()
        if not len(widths) == len(blocks) == len(strides) == 3:
            raise ValueError(f"SmallResNet has three stages; got widths={widths}, "
                             f"blocks={blocks}, strides={strides}")
        self.conv1 = conv3x3(in_channels, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        inplanes = widths[0]
        self.layer1, inplanes = make_stage(BasicBlock, inplanes, widths[0], blocks[0], strides[0])
        self.layer2, inplanes = make_stage(BasicBlock, inplanes, widths[1], blocks[1], strides[1])
        self.layer3, inplanes = make_stage(BasicBlock, inplanes, widths[2], blocks[2], strides[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, num_classes)
        init_resnet_(self, zero_init_residual)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))
