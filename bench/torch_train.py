"""PyTorch reference for bench/train.ts: the same models, batch sizes and
optimizer, trained on random data; prints one JSON line.
Usage: python3 torch_train.py FAMILY SECONDS (threads from OMP_NUM_THREADS)."""
import json, os, resource, sys, time
import torch
from torch import nn

family, seconds = sys.argv[1], float(sys.argv[2])
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
torch.manual_seed(0)


class LastStep(nn.Module):
    def forward(self, out):
        return out[0][:, -1, :]


if family == "mlp":
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    x, y = torch.rand(64, 784), torch.randint(0, 10, (64,))
elif family == "cnn":
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(13 * 13 * 32, 128), nn.ReLU(), nn.Linear(128, 10))
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
elif family == "rnn":
    model = nn.Sequential(nn.Embedding(5000, 64), nn.LSTM(64, 64, batch_first=True), LastStep(), nn.Linear(64, 2))
    x, y = torch.randint(0, 5000, (32, 64)), torch.randint(0, 2, (32,))
elif family == "transformer":
    class Block(nn.Module):
        def __init__(self, dim=64, heads=4, ff=128):
            super().__init__()
            self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
            self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
            self.ff = nn.Sequential(nn.Linear(dim, ff), nn.ReLU(), nn.Linear(ff, dim))

        def forward(self, x):
            x = self.norm1(x + self.attention(x, x, x, need_weights=False)[0])
            return self.norm2(x + self.ff(x))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(5000, 64)
            self.positions = nn.Parameter(torch.zeros(64, 64))
            self.blocks = nn.Sequential(Block(), Block())
            self.head = nn.Linear(64, 2)

        def forward(self, x):
            return self.head(self.blocks(self.embed(x) + self.positions).mean(dim=1))

    model = Encoder()
    x, y = torch.randint(0, 5000, (32, 64)), torch.randint(0, 2, (32,))
else:
    raise SystemExit(f"unknown family {family}")

opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()


def step():
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()


for _ in range(3):
    step()
batches, start = 0, time.perf_counter()
while batches < 5 or time.perf_counter() - start < seconds:
    step()
    batches += 1
elapsed = time.perf_counter() - start
print(json.dumps({
    "samplesPerSecond": batches * x.shape[0] / elapsed,
    "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "threads": torch.get_num_threads(),
    "blas": next((line.split()[-1] for line in open("/proc/self/maps") if "blas" in line and ".so" in line), "none"),
}))
