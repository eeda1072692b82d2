"""The VAE style encoder of --use_vae: image -> (mu, logvar) of the style vector z."""
import torch.nn as nn
import torch.nn.functional as F

from .normalization import plain_norm_layer


class ConvEncoder(nn.Module):
    def __init__(self, ndf, z_dim, norm_E):
        super().__init__()
        norm = plain_norm_layer(norm_E)
        chans = [3, ndf, ndf * 2, ndf * 4, ndf * 8, ndf * 8, ndf * 8]
        self.convs = nn.ModuleList(norm(nn.Conv2d(chans[i], chans[i + 1], 3, stride=2, padding=1))
                                   for i in range(6))
        self.fc_mu = nn.Linear(ndf * 8 * 4 * 4, z_dim)
        self.fc_var = nn.Linear(ndf * 8 * 4 * 4, z_dim)

    def forward(self, x):
        # A fixed 256-pixel input keeps the fc layers' size independent of the dataset.
        if x.shape[-2:] != (256, 256):
            x = F.interpolate(x, size=(256, 256), mode='bilinear', align_corners=False)
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        x = x.flatten(1)
        return self.fc_mu(x), self.fc_var(x)
