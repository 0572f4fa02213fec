#!/usr/bin/python3
# qkern tool benchmark — SPDX-License-Identifier: Apache-2.0
#
# make_doctor_dump.py: writes a synthetic dump of about --gb GB in the layout `qkern doctor` reads
# (docs/doctor.md, "Inputs"), for tools/qkern/bench/doctor_10gb.sh:
#
#   OUT/calib/batch_NNNNN.safetensors  one file per batch of --batch samples, every layer in it:
#       input [n,3,32,32]  smooth random images (low-pass filtered noise + gradients), standardized
#       conv1 [n,32,32,32] conv 3x3 of input (pre-BN)       relu1 relu(bn1(conv1))
#       conv2 [n,64,16,16] conv 3x3 stride 2 of relu1 (pre-BN) relu2 relu(bn2(conv2))
#       fc    [n,10]       linear of relu2's channel means
#   OUT/bn.npz             bn1.running_mean / running_var, bn2.* (the pre-BN statistics of 512 samples)
#   OUT/ref/ref.safetensors  64 reference samples (another draw of the same network)
#   OUT/test_logits_float.npy, OUT/test_logits_int8.npy, OUT/test/labels.npy  1000 test samples
#
# The network's weights are random (seeded), the activations therefore look like a CNN's: Gaussian-ish
# pre-BN layers whose channels differ in scale, sparse non-negative ReLU layers, smooth images.
# Data is little-endian float32; safetensors headers are padded so the tensors are 8-byte aligned
# (`qkern collect` then reads them in place, zero copy). Uses numpy and torch (Debian python3-torch).
import argparse
import json
import os
import struct

import numpy as np
import torch

torch.set_num_threads(1)


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, a in tensors:
        a = np.ascontiguousarray(a, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for a in blobs:
            f.write(a.tobytes())


class Net:
    def __init__(self, seed):
        g = torch.Generator().manual_seed(seed)
        self.w1 = torch.randn(32, 3, 3, 3, generator=g) * (2.0 / 27) ** 0.5
        self.w1 *= torch.exp(torch.randn(32, 1, 1, 1, generator=g) * 0.5)  # channels of different scales
        self.b1 = torch.randn(32, generator=g) * 0.1
        self.w2 = torch.randn(64, 32, 3, 3, generator=g) * (2.0 / 288) ** 0.5
        self.w2 *= torch.exp(torch.randn(64, 1, 1, 1, generator=g) * 0.5)
        self.b2 = torch.randn(64, generator=g) * 0.1
        self.wf = torch.randn(10, 64, generator=g) * (1.0 / 64) ** 0.5 * 4
        self.gamma1 = 1 + 0.2 * torch.randn(32, generator=g)
        self.beta1 = 0.2 * torch.randn(32, generator=g)
        self.gamma2 = 1 + 0.2 * torch.randn(64, generator=g)
        self.beta2 = 0.2 * torch.randn(64, generator=g)
        self.bn = None

    @staticmethod
    def images(n, g):
        x = torch.randn(n, 3, 32, 32, generator=g)
        k = torch.tensor([1.0, 4, 6, 4, 1]) / 16
        k2 = (k[:, None] * k[None, :]).expand(3, 1, 5, 5).contiguous()
        for _ in range(3):  # low-pass: neighbouring pixels correlate as in photographs
            x = torch.nn.functional.conv2d(x, k2, padding=2, groups=3)
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, 32), torch.linspace(-1, 1, 32), indexing="ij")
        a = torch.randn(n, 3, 2, generator=g)
        x = x * 4 + a[:, :, 0, None, None] * xx + a[:, :, 1, None, None] * yy
        return (x - x.mean((0, 2, 3), keepdim=True)) / x.std((0, 2, 3), keepdim=True)

    def forward(self, x):
        c1 = torch.nn.functional.conv2d(x, self.w1, self.b1, padding=1)
        m1, v1 = self.bn[0]
        r1 = torch.relu((c1 - m1[:, None, None]) / torch.sqrt(v1[:, None, None] + 1e-5) * self.gamma1[:, None, None]
                        + self.beta1[:, None, None])
        c2 = torch.nn.functional.conv2d(r1, self.w2, self.b2, stride=2, padding=1)
        m2, v2 = self.bn[1]
        r2 = torch.relu((c2 - m2[:, None, None]) / torch.sqrt(v2[:, None, None] + 1e-5) * self.gamma2[:, None, None]
                        + self.beta2[:, None, None])
        fc = r2.mean((2, 3)) @ self.wf.T
        return {"input": x, "conv1": c1, "relu1": r1, "conv2": c2, "relu2": r2, "fc": fc}

    def fit_bn(self, x):
        c1 = torch.nn.functional.conv2d(x, self.w1, self.b1, padding=1)
        m1, v1 = c1.mean((0, 2, 3)), c1.var((0, 2, 3), unbiased=False)
        self.bn = [(m1, v1), (torch.zeros(64), torch.ones(64))]
        c2 = self.forward(x)["conv2"]
        self.bn[1] = (c2.mean((0, 2, 3)), c2.var((0, 2, 3), unbiased=False))


def main():
    ap = argparse.ArgumentParser(description="a synthetic dump in the layout qkern doctor reads")
    ap.add_argument("out")
    ap.add_argument("--gb", type=float, default=10.0, help="size of calib/ in GB (1e9 bytes)")
    ap.add_argument("--batch", type=int, default=128, help="samples per file")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(os.path.join(a.out, "calib"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "ref"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "test"), exist_ok=True)
    g = torch.Generator().manual_seed(a.seed)
    net = Net(a.seed)
    with torch.no_grad():
        net.fit_bn(Net.images(512, g))
        np.savez(os.path.join(a.out, "bn.npz"), **{
            "bn1.running_mean": net.bn[0][0].numpy(), "bn1.running_var": net.bn[0][1].numpy(),
            "bn2.running_mean": net.bn[1][0].numpy(), "bn2.running_var": net.bn[1][1].numpy()})
        ref = net.forward(Net.images(64, g))
        write_safetensors(os.path.join(a.out, "ref", "ref.safetensors"), [(k, v.numpy()) for k, v in ref.items()])
        test = net.forward(Net.images(1000, g))["fc"].numpy()
        labels = test.argmax(1)
        flip = np.random.default_rng(a.seed).random(1000) < 0.05  # the "model" is wrong on 5 %
        labels[flip] = (labels[flip] + 1) % 10
        np.save(os.path.join(a.out, "test_logits_float.npy"), test.astype("<f4"))
        q = np.round(test / (np.abs(test).max() / 127)) * (np.abs(test).max() / 127)
        np.save(os.path.join(a.out, "test_logits_int8.npy"), q.astype("<f4"))
        np.save(os.path.join(a.out, "test", "labels.npy"), labels.astype("<i8"))

        per_sample = 4 * (3 * 32 * 32 + 2 * 32 * 32 * 32 + 2 * 64 * 16 * 16 + 10)
        samples = max(2, int(a.gb * 1e9 / per_sample))
        done, f = 0, 0
        while done < samples:
            n = min(a.batch, samples - done)
            acts = net.forward(Net.images(n, g))
            write_safetensors(os.path.join(a.out, "calib", "batch_%05d.safetensors" % f),
                              [(k, v.numpy()) for k, v in acts.items()])
            done += n
            f += 1
    print("%s: %d samples in %d files, %.2f GB" % (a.out, samples, f, samples * per_sample / 1e9))


if __name__ == "__main__":
    main()
