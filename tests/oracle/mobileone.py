"""MobileOne in plain PyTorch: the oracle the compiler is checked against.

Written from the paper and /work/shared/MOBILEONE.md. The module tree is laid out so
that ``state_dict()`` has exactly the keys of the authors' public release
(apple/ml-mobileone), both for the train-time model and for the reparameterised one.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-5

# name -> (width multipliers, conv branches k, squeeze-excite)
VARIANTS = {
    "s0": {"width_multipliers": (0.75, 1.0, 1.0, 2.0), "num_conv_branches": 4, "use_se": False},
    "s1": {"width_multipliers": (1.5, 1.5, 2.0, 2.5), "num_conv_branches": 1, "use_se": False},
    "s2": {"width_multipliers": (1.5, 2.0, 2.5, 4.0), "num_conv_branches": 1, "use_se": False},
    "s3": {"width_multipliers": (2.0, 2.5, 3.0, 4.0), "num_conv_branches": 1, "use_se": False},
    "s4": {"width_multipliers": (3.0, 3.5, 3.5, 4.0), "num_conv_branches": 1, "use_se": True},
}


class SqueezeExcite(nn.Module):
    """Channel gate: global mean -> 1x1 reduce -> ReLU -> 1x1 expand -> sigmoid -> scale."""

    def __init__(self, channels, ratio=0.0625):
        super().__init__()
        hidden = int(channels * ratio)
        self.reduce = nn.Conv2d(channels, hidden, kernel_size=1, stride=1, bias=True)
        self.expand = nn.Conv2d(hidden, channels, kernel_size=1, stride=1, bias=True)

    def forward(self, x):
        s = x.mean(dim=(2, 3), keepdim=True)
        s = torch.sigmoid(self.expand(F.relu(self.reduce(s))))
        return x * s


def _conv_bn(cin, cout, kernel, stride, padding, groups):
    branch = nn.Sequential()
    branch.add_module("conv", nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding,
                                        groups=groups, bias=False))
    branch.add_module("bn", nn.BatchNorm2d(cout, eps=BN_EPS))
    return branch


class MobileOneBlock(nn.Module):
    """relu(se(sum_i BN_i(conv_i(x)) + BN_s(conv1x1(x)) + BN_id(x))), or, once
    reparameterised, relu(se(reparam_conv(x)))."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 groups=1, num_conv_branches=1, use_se=False, inference_mode=False):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.groups = groups
        self.num_conv_branches = num_conv_branches
        self.inference_mode = inference_mode

        self.se = SqueezeExcite(out_channels) if use_se else nn.Identity()
        self.activation = nn.ReLU()

        if inference_mode:
            self.reparam_conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                                          padding=padding, groups=groups, bias=True)
            return

        if in_channels == out_channels and stride == 1:
            self.rbr_skip = nn.BatchNorm2d(in_channels, eps=BN_EPS)
        else:
            self.rbr_skip = None
        self.rbr_conv = nn.ModuleList(
            [_conv_bn(in_channels, out_channels, kernel_size, stride, padding, groups)
             for _ in range(num_conv_branches)])
        if kernel_size > 1:
            self.rbr_scale = _conv_bn(in_channels, out_channels, 1, stride, 0, groups)
        else:
            self.rbr_scale = None

    def branch_sum(self, x):
        """The block's output before SE and ReLU."""
        if self.inference_mode:
            return self.reparam_conv(x)
        y = 0
        if self.rbr_skip is not None:
            y = self.rbr_skip(x)
        if self.rbr_scale is not None:
            y = y + self.rbr_scale(x)
        for branch in self.rbr_conv:
            y = y + branch(x)
        return y

    def forward(self, x):
        return self.activation(self.se(self.branch_sum(x)))

    # --- reparameterisation -------------------------------------------------
    def _identity_kernel(self, device, dtype):
        per_group = self.in_channels // self.groups
        k = self.kernel_size
        w = torch.zeros(self.in_channels, per_group, k, k, device=device, dtype=dtype)
        c = torch.arange(self.in_channels, device=device)
        w[c, c % per_group, k // 2, k // 2] = 1.0
        return w

    @staticmethod
    def _fold(kernel, bn):
        std = (bn.running_var + bn.eps).sqrt()
        scale = bn.weight / std
        return kernel * scale.reshape(-1, 1, 1, 1), bn.bias - bn.running_mean * scale

    def fused_kernel_bias(self):
        """The single conv kernel and bias equivalent (in eval) to all branches."""
        ref = self.rbr_conv[0].conv.weight
        kernel = torch.zeros_like(ref)
        bias = torch.zeros(self.out_channels, dtype=ref.dtype, device=ref.device)
        for branch in self.rbr_conv:
            w, b = self._fold(branch.conv.weight, branch.bn)
            kernel += w
            bias += b
        if self.rbr_scale is not None:
            w, b = self._fold(self.rbr_scale.conv.weight, self.rbr_scale.bn)
            pad = self.kernel_size // 2
            kernel += F.pad(w, [pad, pad, pad, pad])
            bias += b
        if self.rbr_skip is not None:
            w, b = self._fold(self._identity_kernel(ref.device, ref.dtype), self.rbr_skip)
            kernel += w
            bias += b
        return kernel, bias


class MobileOne(nn.Module):
    def __init__(self, width_multipliers, blocks_per_stage=(2, 8, 10, 1), num_conv_branches=1,
                 use_se=False, num_classes=1000, inference_mode=False):
        super().__init__()
        assert len(width_multipliers) == 4 and len(blocks_per_stage) == 4
        self.width_multipliers = tuple(width_multipliers)
        self.blocks_per_stage = tuple(blocks_per_stage)
        self.num_conv_branches = num_conv_branches
        self.use_se = use_se
        self.num_classes = num_classes
        self.inference_mode = inference_mode

        w1, w2, w3, w4 = width_multipliers
        self._channels = min(64, int(64 * w1))
        # The stem always has a single conv branch and no SE.
        self.stage0 = MobileOneBlock(3, self._channels, 3, stride=2, padding=1,
                                     num_conv_branches=1, inference_mode=inference_mode)
        se_repeats = (0, 0, blocks_per_stage[2] // 2 if use_se else 0,
                      blocks_per_stage[3] if use_se else 0)
        planes = (int(64 * w1), int(128 * w2), int(256 * w3), int(512 * w4))
        for s in range(4):
            self.add_module(f"stage{s + 1}",
                            self._stage(planes[s], blocks_per_stage[s], se_repeats[s]))
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(planes[3], num_classes)

    def _stage(self, planes, repeats, se_repeats):
        blocks = []
        for r in range(repeats):
            stride = 2 if r == 0 else 1
            se = r >= repeats - se_repeats
            c = self._channels
            # depthwise 3x3, channels unchanged
            blocks.append(MobileOneBlock(c, c, 3, stride=stride, padding=1, groups=c,
                                         num_conv_branches=self.num_conv_branches, use_se=se,
                                         inference_mode=self.inference_mode))
            # pointwise 1x1 to the stage's planes
            blocks.append(MobileOneBlock(c, planes, 1, stride=1, padding=0, groups=1,
                                         num_conv_branches=self.num_conv_branches, use_se=se,
                                         inference_mode=self.inference_mode))
            self._channels = planes
        return nn.Sequential(*blocks)

    def config(self):
        return dict(width_multipliers=self.width_multipliers,
                    blocks_per_stage=self.blocks_per_stage,
                    num_conv_branches=self.num_conv_branches, use_se=self.use_se,
                    num_classes=self.num_classes)

    def features(self, x):
        x = self.stage0(x)
        for s in (self.stage1, self.stage2, self.stage3, self.stage4):
            x = s(x)
        return x

    def forward(self, x):
        x = self.gap(self.features(x))
        return self.linear(torch.flatten(x, 1))


def mobileone(variant, num_classes=1000, inference_mode=False):
    return MobileOne(num_classes=num_classes, inference_mode=inference_mode,
                     **VARIANTS[variant.lower()])


@torch.no_grad()
def reparameterize(model):
    """Return a new inference-mode model equivalent (in eval) to the train-time ``model``."""
    fused = MobileOne(inference_mode=True, **model.config())
    src = dict(model.named_modules())
    for name, block in fused.named_modules():
        if not isinstance(block, MobileOneBlock):
            continue
        kernel, bias = src[name].fused_kernel_bias()
        block.reparam_conv.weight.copy_(kernel)
        block.reparam_conv.bias.copy_(bias)
        if isinstance(block.se, SqueezeExcite):
            block.se.load_state_dict(src[name].se.state_dict())
    fused.linear.load_state_dict(model.linear.state_dict())
    return fused.eval()
