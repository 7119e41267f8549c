"""``minigrad.nn.functional`` (``import minigrad.nn.functional as F``): PyTorch's stateless
layer functions, one family per module.

=================  ==============================================================
``activation``     relu gelu sigmoid tanh silu leaky_relu elu softplus softmax …
``linear``         linear
``conv``           conv1d conv2d conv_transpose1d conv_transpose2d
``volumetric``     conv3d conv_transpose3d avg_pool3d max_pool3d adaptive_avg_pool3d lp_pool3d …
``pooling``        max_pool2d avg_pool2d adaptive_avg_pool2d max_unpool2d/1d
``upsampling``     interpolate pixel_shuffle pixel_unshuffle
``fold``           unfold (im2col) fold (col2im)
``grid_sampling``  affine_grid grid_sample
``normalization``  batch_norm layer_norm group_norm
``dropout``        dropout dropout1d/2d/3d
``sparse``         embedding one_hot
``padding``        pad
``loss``           cross_entropy nll_loss mse_loss l1_loss binary_cross_entropy(_with_logits)
``loss_regression`` smooth_l1_loss huber_loss kl_div poisson_nll_loss gaussian_nll_loss
``loss_margin``    margin_ranking hinge_embedding soft_margin cosine_embedding triplet_margin …
``distance``       normalize cosine_similarity pairwise_distance
``attention``      scaled_dot_product_attention
=================  ==============================================================

Differentiable Functions with their own VJPs live in ``minigrad/ops`` (convolution, pooling,
the pointwise activations and hardtanh, softmax, constant padding, cross-entropy and binary
cross-entropy, layer norm, the embedding lookup); a test keeps every Function there. This package checks arguments the way PyTorch does and composes those ops.
"""
from . import (activation, attention, conv, distance, dropout as _dropout_module,
               fold as _fold_module, grid_sampling, linear as _linear_module, loss,
               loss_margin, loss_regression, normalization, padding, pooling, sparse, upsampling,
               volumetric)
from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .fold import *  # noqa: F401,F403
from .grid_sampling import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .loss_margin import *  # noqa: F401,F403
from .loss_regression import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
from .volumetric import *  # noqa: F401,F403

__all__ = [name for module in (activation, attention, conv, distance, _dropout_module,
                               _fold_module, grid_sampling, _linear_module, loss, loss_margin,
                               loss_regression, normalization, padding, pooling, sparse, upsampling,
                               volumetric)
           for name in module.__all__]

from . import multi_head_attention  # noqa: E402
from .multi_head_attention import *  # noqa: E402,F401,F403
__all__ += multi_head_attention.__all__
