"""Networks and Pix2PixModel: MFADE vs SPADE, gradient routing, shapes per dataset, VGG weights."""
import os

import numpy as np
import pytest
import torch

from data.transforms import image_size
from models.networks.normalization import MFADE, SPADE
from models.networks.semantics import DenseSemantics
from models.networks.vgg import VGG19, load_vgg19
from models.pix2pix_model import Pix2PixModel
from options.test_options import TestOptions
from conftest import NO_CHECKPOINTS, random_batch, tiny_opt, train_opt
from util.errors import UserError
from util.lbp import LBP

HERE = os.path.dirname(__file__)
DATASETS = {  # option set -> (H, W, label values incl. don't care, has instances)
    'cityscapes': ([], (256, 512), 35, True),
    'ade20k': (['--load_size', '256'], (256, 256), 151, False),
    'coco': (['--load_size', '256'], (256, 256), 183, True),
}


def grads(net):
    return [p.grad for p in net.parameters()]


def test_mfade_with_zero_lbp_branch_is_spade_and_l_matters():
    torch.manual_seed(0)
    spade, mfade = SPADE(8, 5), MFADE(8, 5)
    mfade.branch.load_state_dict(spade.branch.state_dict())
    for conv in (mfade.lbp_branch.mlp_gamma, mfade.lbp_branch.mlp_beta):
        torch.nn.init.zeros_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    x, seg = torch.randn(2, 8, 16, 16), DenseSemantics(torch.rand(2, 5, 16, 16))  # (dense label channels)
    lbp = torch.rand(2, 1, 16, 16) * 2 - 1
    assert torch.equal(mfade(x, seg, lbp), spade(x, seg))
    torch.nn.init.normal_(mfade.lbp_branch.mlp_gamma.weight)
    assert not torch.allclose(mfade(x, seg, lbp), mfade(x, seg, -lbp))


def test_adaptive_norms_follow_their_formulas_with_the_same_gradients():
    """SPADE / MFADE fold their arithmetic into few passes (in-place on conv outputs): the
    values and every gradient must still be those of the plain formulas."""
    torch.manual_seed(0)
    x, lbp = torch.randn(2, 8, 16, 16), torch.rand(2, 1, 16, 16) * 2 - 1
    one_hot = torch.nn.functional.one_hot(torch.randint(0, 5, (2, 16, 16)), 5).permute(0, 3, 1, 2).float()
    seg = DenseSemantics(one_hot)
    for norm in (SPADE(8, 5, 'batch'), MFADE(8, 5, 'batch')):
        def plain():
            gamma, beta = norm.branch(seg)
            if isinstance(norm, MFADE):
                gamma_o, beta_o = norm.lbp_branch(lbp)
                gamma, beta = gamma + gamma_o, beta + beta_o
            xn = torch.nn.functional.batch_norm(x, None, None, training=True)
            return xn * (1 + gamma) + beta
        outputs = []
        for fn in (lambda: norm(x, seg, lbp), plain):
            norm.zero_grad()
            y = fn()
            (y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum().backward()
            outputs.append((y.detach(), [p.grad.clone() for p in norm.parameters()]))
        (ya, ga), (yb, gb) = outputs
        torch.testing.assert_close(ya, yb)
        assert len(ga) == len(gb) > 0
        for a, b in zip(ga, gb):
            torch.testing.assert_close(a, b)


def test_losses_are_fp32_under_bf16_autocast():
    opt = tiny_opt('--use_vae')
    model = Pix2PixModel.from_options(opt)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        g_losses, fake = model.generator_losses(random_batch(opt, 2))
        d_losses = model.discriminator_losses(random_batch(opt, 2))
    assert fake['synthesized_image'].dtype == torch.bfloat16  # the networks did run in bf16
    assert {k: v.dtype for k, v in {**g_losses, **d_losses}.items()} == \
        {k: torch.float32 for k in {**g_losses, **d_losses}}
    sn = model.nets['G'].head_0.conv_0.parametrizations.weight[0]
    assert sn._u.dtype == sn._v.dtype == torch.float32


def test_mfade_lbp_branch_without_hidden_layer():
    # --nhidden_lbp 0: γ_o and β_o are one conv each straight from L, as the paper's figure.
    opt = tiny_opt('--nhidden_lbp', '0')
    model = Pix2PixModel.from_options(opt)
    norm = model.nets['G'].head_0.norm_0
    assert norm.lbp_branch.mlp_shared is None and norm.lbp_branch.mlp_gamma.in_channels == 1
    assert norm.branch.mlp_shared[0].out_channels == opt.nhidden
    default = Pix2PixModel.from_options(tiny_opt('--nhidden', '8')).nets['G'].head_0.norm_0.lbp_branch  # = --nhidden
    assert default.mlp_shared[0].out_channels == 8
    x, lbp = torch.randn(1, norm.lbp_branch.mlp_gamma.out_channels, 4, 8), torch.rand(1, 1, 4, 8)
    seg = DenseSemantics(torch.rand(1, model.config.semantic_nc, 4, 8))
    gamma, beta = norm.lbp_branch(lbp)
    assert torch.allclose(gamma, torch.nn.functional.conv2d(lbp, norm.lbp_branch.mlp_gamma.weight,
                                                            norm.lbp_branch.mlp_gamma.bias, padding=1))
    assert norm(x, seg, lbp).shape == x.shape


def test_d_l_sees_a_real_photo_identically_as_real_and_as_fake(monkeypatch):
    # The same real batch fed once as real, (S, LBP(real)), and once as the fake image,
    # (S, LBP(image)): D_L gets exactly the same map, so the operator cannot leak.
    from skimage import data as photos
    opt = tiny_opt()
    model = Pix2PixModel.from_options(opt)
    data = random_batch(opt, 2)
    crops = [photos.astronaut()[100:132, 150:214], photos.coffee()[300:332, 200:264]]
    data['image'] = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 127.5 - 1
    monkeypatch.setattr(model, 'generate_fake', lambda s, real, compute_kld=False: (
        {'synthesized_image': real, 'synthesized_lbp': torch.zeros_like(real[:, :1])}, None))
    seen = []
    model.nets['DL'].register_forward_pre_hook(lambda module, args: seen.append(args))
    model.discriminator_losses(data)
    semantics, lbp_maps = seen[0]  # D_L(S, x): one S for the batch of fakes and reals in x
    assert torch.equal(semantics.ids, data['label'])
    _, as_fake, as_real = lbp_maps.chunk(3)
    assert torch.equal(as_fake, as_real)
    assert (as_real[:, -1] != as_real[0, -1, 0, 0]).any()  # a textured photo, not a flat one


def test_g_i_learns_from_d_l_only_through_lbp_of_its_image():
    # D_L's GAN term alone: G_I gets a gradient through LBP(I)'s surrogate; without the LBP(I) fake,
    # D_L only judges G_L's map and G_I gets none.
    for extra, reaches_g in (((), True), (('--no_lbp_image_fake',), False)):
        opt = tiny_opt('--no_ganFeat_loss', '--no_lbp_loss', '--no_lbp_ganFeat_loss', '--lambda_gan', '0', *extra)
        model = Pix2PixModel.from_options(opt)
        losses, _ = model(random_batch(opt, 2), 'generator')
        assert set(losses) == {'LBP_GAN'}
        losses['LBP_GAN'].backward()
        g = [p.grad for p in model.nets['G'].parameters() if p.grad is not None]
        assert (sum(x.abs().sum() for x in g) > 0 if g else False) == reaches_g, extra
        assert sum(p.grad.abs().sum() for p in model.nets['GL'].parameters() if p.grad is not None) > 0


def test_g_and_d_l_average_over_the_same_fakes(monkeypatch):
    # G's LBP_GAN and LBP_GAN_Feat and D_L's DL_Fake are each the mean over D_L's fakes.
    opt = tiny_opt()
    model = Pix2PixModel.from_options(opt)
    calls = []

    def gan(pred, target, for_discriminator=True):
        calls.append((target, for_discriminator))
        return torch.tensor(float(len(calls)))
    monkeypatch.setattr(model.criterionGAN, 'forward', gan)
    losses, _ = model(random_batch(opt), 'generator')
    # calls: D_I (1), D_L's two fakes (2, 3) -> LBP_GAN = mean(2, 3)
    assert losses['LBP_GAN'].item() == 2.5 and len(calls) == 3
    calls.clear()
    losses = model(random_batch(opt), 'discriminator')
    # D_I fake (1), D_I real (2), D_L fakes (3, 4), D_L real (5)
    assert losses['DL_Fake'].item() == 3.5 and losses['DL_real'].item() == 5
    one = Pix2PixModel.from_options(tiny_opt('--no_lbp_image_fake'))
    assert len(one.lbp_fakes(torch.zeros(1, 1, 4, 4), torch.zeros(1, 3, 4, 4))) == 1


def test_lbp_variant_reaches_the_model():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 32, 64) * 2 - 1
    codes = {v: Pix2PixModel.from_options(tiny_opt('--lbp_variant', v)).lbp.hard(image) for v in ('classic', 'skimage')}
    assert not torch.equal(codes['classic'], codes['skimage'])
    assert torch.equal(codes['classic'], LBP("classic").hard(image))
    assert tiny_opt().lbp_variant == 'classic'


def test_vgg_sees_the_raw_generator_output():
    # As SPADE: no ImageNet normalisation between G's [-1, 1] output and VGG19.
    vgg = VGG19()
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    assert torch.equal(vgg(x)[0], vgg.features[:2](x))


def test_mode_names_call_the_methods():
    opt = tiny_opt()
    model = Pix2PixModel.from_options(opt).eval()  # (in train mode batch norm and spectral norm update state)
    data = random_batch(opt)
    torch.manual_seed(1)
    a = model(data, 'inference')
    torch.manual_seed(1)
    b = model.generate(data)
    assert torch.equal(a['synthesized_image'], b['synthesized_image']) and a['real_lbp'].shape == (1, 1, 32, 64)
    for mode in ('train', 'encode_only'):  # (SPADE's encode_only had no caller here)
        with pytest.raises(ValueError, match='inference'):
            model(data, mode)


def test_generator_loss_reaches_generators_only():
    opt = tiny_opt('--use_vae')
    model = Pix2PixModel.from_options(opt)
    losses, fake = model(random_batch(opt, 2), 'generator')
    assert {'GAN', 'GAN_Feat', 'KLD', 'LBP_L1', 'LBP_GAN', 'LBP_GAN_Feat'} <= set(losses)
    sum(losses.values()).backward()
    for name in ('G', 'GL', 'E'):
        assert all(g is not None for g in grads(model.networks()[name])), name
        assert sum(g.abs().sum() for g in grads(model.networks()[name])) > 0, name
    for name in ('D', 'DL'):
        assert all(g is None for g in grads(model.networks()[name])), name
        assert all(p.requires_grad for p in model.networks()[name].parameters())


def test_discriminator_loss_reaches_discriminators_only():
    opt = tiny_opt()
    model = Pix2PixModel.from_options(opt)
    losses = model(random_batch(opt, 2), 'discriminator')
    assert set(losses) == {'D_Fake', 'D_real', 'DL_Fake', 'DL_real'}
    sum(losses.values()).backward()
    for name in ('D', 'DL'):
        assert sum(g.abs().sum() for g in grads(model.networks()[name])) > 0, name
    for name in ('G', 'GL'):
        assert all(g is None for g in grads(model.networks()[name])), name


@pytest.mark.slow
@pytest.mark.parametrize('dataset', DATASETS)
def test_output_shapes_per_dataset(dataset):
    extra, (h, w), values, instances = DATASETS[dataset]
    opt = train_opt('--dataset_mode', dataset, *extra)
    assert image_size(opt.crop_size, opt.aspect_ratio) == (h, w)
    model = Pix2PixModel.from_options(opt)
    assert model.config.semantic_nc == values + int(instances)
    data = random_batch(opt)
    assert model.nets['GL'].stem[0].in_channels == model.config.semantic_nc
    losses, fake = model(data, 'generator')
    assert fake['synthesized_image'].shape == (1, 3, h, w)
    assert fake['synthesized_lbp'].shape == (1, 1, h, w)
    assert all(torch.isfinite(v) for v in losses.values())
    assert set(model(data, 'discriminator')) == {'D_Fake', 'D_real', 'DL_Fake', 'DL_real'}


def test_spade_baseline_has_no_lbp_parts():
    opt = tiny_opt('--netG', 'spade')
    assert opt.norm_G == 'spectralspadesyncbatch3x3'
    model = Pix2PixModel.from_options(opt)
    assert set(model.networks()) == {'G', 'D'}
    data = random_batch(opt)
    losses, fake = model(data, 'generator')
    assert set(losses) == {'GAN', 'GAN_Feat'}
    assert fake['synthesized_lbp'] is None
    assert set(model(data, 'discriminator')) == {'D_Fake', 'D_real'}
    assert not any('lbp' in k for k in model.nets['G'].state_dict())


def test_every_loss_term_can_be_switched_off():
    opt = tiny_opt('--no_ganFeat_loss',
                    '--no_lbp_loss', '--no_lbp_ganFeat_loss', '--lambda_gan', '0', '--lambda_lbp_gan', '2')
    losses, _ = Pix2PixModel.from_options(opt)(random_batch(opt), 'generator')
    assert set(losses) == {'LBP_GAN'}
    opt = tiny_opt('--no_lbp_D')
    model = Pix2PixModel.from_options(opt)
    assert 'DL' not in model.networks()
    assert set(model(random_batch(opt), 'generator')[0]) == {'GAN', 'GAN_Feat', 'LBP_L1'}


def test_loss_weights_scale_the_terms():
    def losses(*extra):
        torch.manual_seed(0)
        opt = tiny_opt(*extra)
        return Pix2PixModel.from_options(opt)(random_batch(opt), 'generator')[0]
    base, scaled = losses(), losses('--lambda_lbp', '20', '--lambda_feat', '5')
    assert torch.allclose(scaled['LBP_L1'], 2 * base['LBP_L1'])
    assert torch.allclose(scaled['GAN_Feat'], 0.5 * base['GAN_Feat'])


def test_lbp_generator_ablation_uses_spade_on_label_and_lbp():
    opt = tiny_opt('--norm_G', 'spectralspadesyncbatch3x3', '--no_lbp_D')
    model = Pix2PixModel.from_options(opt)
    assert model.nets['G'].head_0.norm_0.branch.mlp_shared[0].in_channels == model.config.semantic_nc + 1
    assert set(model(random_batch(opt), 'generator')[0]) == {'GAN', 'GAN_Feat', 'LBP_L1'}


def test_pix2pixhd_generator_runs():
    opt = tiny_opt('--netG', 'pix2pixhd')
    losses, fake = Pix2PixModel.from_options(opt)(random_batch(opt), 'generator')
    assert fake['synthesized_image'].shape == (1, 3, 32, 64) and fake['synthesized_lbp'] is None


def test_inference_and_encoder_modes():
    opt = TestOptions().parse(['--checkpoints_dir', NO_CHECKPOINTS, '--dataset_mode', 'cityscapes', '--label_nc', '8',
                               '--crop_size', '64', '--use_vae',
                               '--num_upsampling_layers', 'normal',
                               '--ngf', '4', '--ngf_lbp', '4', '--gpu_ids', '-1'])
    model = Pix2PixModel.from_options(opt).eval()
    assert set(model.networks()) == {'G', 'GL', 'E'}
    assert model.nets['E'].fc_mu.in_features == opt.ngf * 8 * 4 * 4  # the style encoder is --ngf wide, as SPADE's
    data = random_batch(opt, 2)
    encoded = []
    encode_z = model.encode_z
    model.encode_z = lambda real: encoded.append(real) or encode_z(real)
    a, b = model(data, 'inference'), model(data, 'inference')
    assert a['synthesized_image'].shape == (2, 3, 32, 64)
    # As SPADE's inference: each real image's style is encoded (and sampled around it).
    assert len(encoded) == 2 and torch.equal(encoded[0], data['image'])
    assert not torch.equal(a['synthesized_image'], b['synthesized_image'])
    z, mu, logvar = encode_z(data['image'])
    assert z.shape == mu.shape == logvar.shape == (2, opt.z_dim)
    model.random_style = True  # --random_style: z from the prior, no encoder
    model(data, 'inference')
    assert len(encoded) == 2  # none for the random style


def test_instance_edges_channel():
    from models.pix2pix_model import instance_edges
    inst = torch.zeros(1, 1, 4, 6, dtype=torch.long)
    inst[..., :, 3:] = 7
    edges = instance_edges(inst)[0, 0]
    assert edges[:, 2:4].eq(1).all() and edges[:, :2].eq(0).all() and edges[:, 4:].eq(0).all()


def test_vgg19_state_dict_matches_torchvision_file():
    with open(os.path.join(HERE, 'data', 'weights', 'vgg19-dcbb9e9d.tsv')) as f:
        expected = dict(line.split('\t') for line in f.read().splitlines() if line and not line.startswith('#'))
    ours = {k: 'x'.join(map(str, v.shape)) for k, v in VGG19().state_dict().items()}
    assert ours == {k: v for k, v in expected.items() if k.startswith('features.')}
    assert all(k.startswith(('features.', 'classifier.')) for k in expected)  # classifier: unused


def test_vgg19_loads_file_from_path_and_hub_cache(tmp_path, monkeypatch):
    reference = VGG19()
    torch.save({f'module.{k}': v for k, v in reference.state_dict().items()}, tmp_path / 'w.pth')
    vgg = load_vgg19(str(tmp_path / 'w.pth'))
    assert torch.equal(vgg.features[0].weight, reference.features[0].weight)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'hub'))
    os.makedirs(tmp_path / 'hub' / 'hub' / 'checkpoints')
    torch.save(reference.state_dict(), tmp_path / 'hub' / 'hub' / 'checkpoints' / 'vgg19-dcbb9e9d.pth')
    assert torch.equal(load_vgg19('').features[2].weight, reference.features[2].weight)


def test_missing_vgg_weights_say_where_and_how_to_turn_off(tmp_path, monkeypatch):
    with pytest.raises(UserError, match=r'--vgg_weights .*nope\.pth.*vgg19-dcbb9e9d\.pth.*--no_vgg_loss'):
        load_vgg19(str(tmp_path / 'nope.pth'))
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'empty'))
    monkeypatch.setattr(torch.hub, 'download_url_to_file', lambda *a, **k: (_ for _ in ()).throw(OSError('offline')))
    with pytest.raises(UserError) as err:
        load_vgg19('')
    msg = str(err.value)
    assert str(tmp_path / 'empty') in msg and 'download.pytorch.org' in msg and '--no_vgg_loss' in msg
    (tmp_path / 'bad.pth').write_bytes(b'not a weight file')
    with pytest.raises(UserError, match='bad.pth'):
        load_vgg19(str(tmp_path / 'bad.pth'))


def run_both_steps(opt, data, amp):
    """(synthesized image, {parameter: gradient}) of one G step and one D step from a fixed init."""
    torch.manual_seed(0)
    model = Pix2PixModel.from_options(opt)
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
        g_losses, fake = model.generator_losses(data)
        d_losses = model.discriminator_losses(data)
    (sum(g_losses.values()) + sum(d_losses.values())).backward()
    return fake['synthesized_image'].float(), {k: p.grad.float() for k, p in model.named_parameters() if p.grad is not None}


def test_label_lookups_equal_the_one_hot_convolutions_in_the_whole_model(monkeypatch):
    # Every conv over the label map (G_I's fc and label branches at every resolution, G_L's stem,
    # the first layer of D_I and D_L) as a lookup from the ids, against the same convs run on the
    # one-hot map; the don't-care and instance-edge channels included.
    from models.networks.label_conv import LabelConv2d
    opt = tiny_opt()
    data = random_batch(opt, 2)
    runs = {}
    for path, min_pixels in (('lookup', 0), ('dense', 10 ** 12)):
        monkeypatch.setattr(LabelConv2d, 'min_pixels', min_pixels)
        for amp in (False, True):
            runs[path, amp] = run_both_steps(opt, data, amp)
    (image, grads), (reference, grads_dense) = runs['lookup', False], runs['dense', False]
    assert grads.keys() == grads_dense.keys() and len(grads) > 100
    assert (image - reference).abs().max() <= 1e-4
    # (floor: some gradients are 0 up to rounding, e.g. a conv bias before a parameter-free norm)
    floor = 1e-6 * max(g.norm() for g in grads_dense.values())
    for k, g in grads_dense.items():
        assert (grads[k] - g).norm() <= 1e-4 * g.norm() + floor, k
    # Under bf16 autocast the lookup adds no more error than bf16 itself: on this tiny model bf16
    # moves the gradients by ~20 % (batch norm over a 1×2 latent), the lookup vs the conv by as much.
    flat = lambda g: torch.cat([g[k].flatten() for k in sorted(g)])
    error = lambda a, b: ((flat(a) - flat(b)).norm() / flat(b).norm()).item()
    assert (runs['lookup', True][0] - runs['dense', True][0]).abs().max() <= 3e-2
    assert error(runs['lookup', True][1], runs['dense', True][1]) <= 2 * error(runs['dense', True][1], grads_dense)


def test_unwrap_takes_off_the_wrappers_prepare_puts_on():
    from models import unwrap
    net = torch.nn.Linear(2, 2)
    compiled = torch.compile(net)  # (compiles only when called)
    assert unwrap(net) is net and unwrap(compiled) is net and unwrap(compiled, keep_compiled=True) is compiled
