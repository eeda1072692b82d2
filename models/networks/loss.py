"""Losses: GAN (hinge / ls / original), feature matching, VGG perceptual, KL."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class GANLoss(nn.Module):
    """Takes a multiscale discriminator's output (list of feature lists); uses each last map."""

    def __init__(self, gan_mode):
        super().__init__()
        self.gan_mode = gan_mode

    def single(self, pred, target_is_real, for_discriminator):
        pred = pred.float()  # under autocast D's output is bf16/fp16: the loss is reduced in fp32
        if self.gan_mode == 'hinge':
            if not for_discriminator:
                return -pred.mean()
            return F.relu(1 - pred).mean() if target_is_real else F.relu(1 + pred).mean()
        target = torch.full_like(pred, float(target_is_real))
        if self.gan_mode == 'ls':
            return F.mse_loss(pred, target)
        return F.binary_cross_entropy_with_logits(pred, target)

    def forward(self, outputs, target_is_real, for_discriminator=True):
        losses = [self.single(feats[-1], target_is_real, for_discriminator) for feats in outputs]
        return torch.stack(losses).mean()


def feature_matching(fake_outputs, real_outputs):
    """L1 between D's intermediate features of fake and real, averaged over scales (SPADE)."""
    loss = 0
    for fake_feats, real_feats in zip(fake_outputs, real_outputs):
        for f, r in zip(fake_feats[:-1], real_feats[:-1]):
            loss = loss + F.l1_loss(f.float(), r.detach().float())  # fp32 under autocast too
    return loss / len(fake_outputs)


class VGGLoss(nn.Module):
    WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)

    def __init__(self, vgg):
        super().__init__()
        self.vgg = vgg

    def forward(self, fake, real):
        with torch.no_grad():  # the real half needs no graph: saves its backward pass
            real_feats = self.vgg(real)
        fake_feats = self.vgg(fake)
        return sum(w * F.l1_loss(f, r) for w, f, r in zip(self.WEIGHTS, fake_feats, real_feats))


def kld_loss(mu, logvar):
    mu, logvar = mu.float(), logvar.float()
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
