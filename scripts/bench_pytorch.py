#!/usr/bin/env python3
"""PyTorch-eager counterpart of `harness bench`: the same measurement on the same libtorch.

Times SGD (momentum 0.9, lr 0.01) training steps of a torchvision model on one fixed random
batch of 3x32x32 images (forward in train mode, cross-entropy, backward, step), after untimed
warm-up steps, synchronising the device around every timed step; prints images/s.

    pip install torch==2.11.0 torchvision   # the libtorch the harness links (2.11.0)
    python3 scripts/bench_pytorch.py --model resnet18 --batch 128 --steps 10 --threads 1

Without torchvision, resnet18 (both styles) is built from a minimal local definition that
matches torchvision's layer for layer (11,689,512 parameters with the 1000-way head).
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        idt = x if self.downsample is None else self.downsample(x)
        return F.relu(out + idt)


class ResNet18(nn.Module):
    def __init__(self, num_classes, style):
        super().__init__()
        if style == "imagenet":
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        else:
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def build(name, style, num_classes):
    try:
        import torchvision.models as tvm

        model = getattr(tvm, name)(weights=None, num_classes=num_classes)
        if style == "cifar":
            if not name.startswith("resnet"):
                raise SystemExit("this script adapts only resnets to the cifar style")
            model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            model.maxpool = nn.Identity()
        return model
    except ImportError:
        if name != "resnet18":
            raise SystemExit("without torchvision only resnet18 is available")
        return ResNet18(num_classes, style)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="resnet18")
    p.add_argument("--style", default="imagenet", choices=["imagenet", "cifar"])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    device = torch.device(a.device)
    model = build(a.model, a.style, a.classes).to(device).train()
    params = sum(t.numel() for t in model.parameters())
    x = torch.randn(a.batch, 3, 32, 32, device=device)
    y = torch.randint(a.classes, (a.batch,), device=device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    times = []
    for i in range(a.warmup + a.steps):
        sync(device)
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sync(device)
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    result = {
        "framework": f"pytorch {torch.__version__} eager",
        "model": a.model,
        "style": a.style,
        "device": str(device),
        "batch": a.batch,
        "steps": a.steps,
        "warmup": a.warmup,
        "threads": torch.get_num_threads(),
        "param_count": params,
        "images_per_sec": a.batch * len(times) / sum(times),
        "step_mean_s": statistics.mean(times),
        "step_std_s": statistics.stdev(times) if len(times) > 1 else 0.0,
        "final_loss": loss.item(),
    }
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['framework']}: {a.model} ({a.style}, {params} parameters) on {device}, "
            f"batch {a.batch}, {result['threads']} threads: {result['images_per_sec']:.1f} "
            f"training images/s (step {result['step_mean_s']:.3f} s ± {result['step_std_s']:.3f} s "
            f"over {a.steps} steps after {a.warmup} warm-up)"
        )


if __name__ == "__main__":
    main()
