// qkern — SPDX-License-Identifier: Apache-2.0
//
// parallel_calibration.cpp: shards a calibration stream over threads, each filling its own
// per-tensor and per-channel streaming histograms, then merges them; checks that the merged counts
// are bit-identical to one thread's, and prints the 1 -> 2 thread scaling.
#include <chrono>
#include <cstdio>
#include <qkern/qkern.hpp>
#include <random>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kBatches = 16, kN = 8, kC = 64, kHW = 56 * 56, kBatch = kN * kC * kHW;

struct Result {
  qkern::StreamingHistogram tensor{2048};
  qkern::ChannelStreamingHistogram channels{kC, 2048};
  double seconds = 0;
};

// Thread t takes batches t, t + threads, ...; the shards are merged in thread order (any order
// gives the same state).
Result collect(const std::vector<float>& x, std::size_t threads) {
  std::vector<Result> parts(threads);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (std::size_t b = t; b < kBatches; b += threads) {
        parts[t].tensor.update(x.data() + b * kBatch, kBatch);
        parts[t].channels.update(x.data() + b * kBatch, qkern::ChannelLayout{kN, kC, kHW});
      }
    });
  for (auto& th : pool) th.join();
  Result r = std::move(parts[0]);
  for (std::size_t t = 1; t < threads; ++t) {
    r.tensor.merge(parts[t].tensor);
    r.channels.merge(parts[t].channels);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

int main() {
  std::vector<float> x(kBatches * kBatch);
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = d(rng) * (1.0f + float(i / kBatch));  // growing range
  const Result one = collect(x, 1);
  const Result two = collect(x, 2);
  const bool same = one.tensor == two.tensor && one.channels == two.channels;
  const double n = double(x.size());
  std::printf("values: %zu, per-tensor + per-channel streaming histograms (2048 bins)\n", x.size());
  std::printf("1 thread : %.3f s (%.2f G elements/s)\n", one.seconds, n / one.seconds * 1e-9);
  std::printf("2 threads: %.3f s (%.2f G elements/s), scaling %.2fx\n", two.seconds, n / two.seconds * 1e-9,
              one.seconds / two.seconds);
  std::printf("merged counts bit-identical to one thread: %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}
