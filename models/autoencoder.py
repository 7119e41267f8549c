"""A convolutional autoencoder for 28×28 images: self-supervised learning (seeds 001 and
003 name autoencoders), trained to reproduce its input through a narrow code.

Shapes of one (N, 1, 28, 28) batch, pixels in [0, 1] (the recipe's ``unit`` normalisation)::

    encoder  Conv2d(1→16, 3×3, stride 2, pad 1)   (N, 16, 14, 14)   ReLU
             Conv2d(16→32, 3×3, stride 2, pad 1)  (N, 32, 7, 7)     ReLU
             Flatten, Linear(1568→latent_dim)     (N, latent_dim)   the code z
    decoder  Linear(latent_dim→1568), ReLU, Unflatten (N, 32, 7, 7)
             ConvTranspose2d(32→16, 3×3, stride 2, pad 1, output_padding 1)  (N, 16, 14, 14)
             ReLU
             ConvTranspose2d(16→1, …same…)        (N, 1, 28, 28)    Sigmoid → [0, 1]

(a transposed convolution's output side is (in − 1)·stride − 2·pad + kernel +
output_padding = 13·2 − 2 + 3 + 1 = 28.) The loss is the mean squared error between the
reconstruction and the input, ``F.mse_loss(model(x), x)``; no label is used in training.
With ``latent_dim=2`` the codes can be drawn directly: a scatter of the test codes
coloured by the (unused) class shows which classes the code separates on its own.
"""
from minigrad import nn

__all__ = ["ConvAutoencoder"]


class ConvAutoencoder(nn.Module):
    """``encode(x) → z (N, latent_dim)``, ``decode(z) → x̂ (N, in_channels, 28, 28)``,
    ``forward(x) = decode(encode(x))``."""

    def __init__(self, latent_dim=2, in_channels=1, width=16):
        super().__init__()
        if latent_dim <= 0 or width <= 0:
            raise ValueError(f"latent_dim and width must be positive, got {latent_dim}, {width}")
        self.latent_dim = latent_dim
        flat = 2 * width * 7 * 7
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(flat, latent_dim))
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, flat), nn.ReLU(), nn.Unflatten(1, (2 * width, 7, 7)),
            nn.ConvTranspose2d(2 * width, width, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(width, in_channels, 3, stride=2, padding=1, output_padding=1),
            nn.Sigmoid())

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))
