// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// bench_collect: `qkern collect` over a dump directory in the page cache against the in-memory
// calibration stream of the same observers (LayerState::update on float arrays already in memory),
// reported in one run. Issue 11 target: file throughput >= 0.7 of the in-memory throughput.
//
//   qkern_bench_collect [DIR] [--files N] [--mb-per-file M] [--threads T] [--repeats R]
//
// Without DIR a synthetic dump (N .npy files of NCHW float32 activations, M MB each, 4 layers) is
// written to a temporary directory first. Both sides run with T threads (default 1) over the same
// files; each is timed R times (default 5) alternately and the median reported.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "collect.hpp"
#include "qkern/io.hpp"

namespace fs = std::filesystem;
using namespace qkern;
using namespace qkern::tool;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Loaded {
  std::string name;
  std::vector<std::size_t> shape;
  std::vector<float> data;
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  std::size_t files = 16, mb = 8;
  unsigned threads = 1, repeats = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::strtoul(argv[++i], nullptr, 10) : 0ul; };
    if (a == "--files")
      files = next();
    else if (a == "--mb-per-file")
      mb = next();
    else if (a == "--threads")
      threads = static_cast<unsigned>(next());
    else if (a == "--repeats")
      repeats = static_cast<unsigned>(next());
    else if (a == "-h" || a == "--help") {
      std::printf("usage: %s [DIR] [--files N] [--mb-per-file M] [--threads T] [--repeats R]\n", argv[0]);
      return 0;
    } else
      dir = a;
  }
  bool synthetic = dir.empty();
  if (synthetic) {
    dir = (fs::temp_directory_path() / ("qkern_bench_collect_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir);
    const char* layers[] = {"conv1", "relu1", "conv2", "relu2"};
    const std::size_t C = 64, H = 28, W = 28;
    const std::size_t per_sample = C * H * W;
    const std::size_t n = std::max<std::size_t>(1, mb * (1u << 20) / (per_sample * sizeof(float)));
    std::mt19937 rng(1);
    std::normal_distribution<float> g(0.2f, 1.0f);
    std::vector<float> x(n * per_sample);
    for (std::size_t f = 0; f < files; ++f) {
      const char* layer = layers[f % 4];
      const bool relu = std::strncmp(layer, "relu", 4) == 0;
      for (float& v : x) v = relu ? std::max(0.0f, g(rng)) : g(rng) * float(1 + (f % 3));
      fs::create_directories(dir + "/batch" + std::to_string(f / 4));
      io::write_npy(dir + "/batch" + std::to_string(f / 4) + "/" + layer + ".npy",
                    {layer, io::ElementType::f32, {n, C, H, W}, x.data()});
    }
  }

  const std::vector<InputFile> inputs = list_inputs({dir});
  std::uint64_t bytes = 0, elements = 0;
  // The in-memory stream: every tensor already converted to float32 in memory.
  std::vector<Loaded> loaded;
  for (const InputFile& f : inputs) {
    bytes += f.bytes;
    const io::TensorFile t = io::TensorFile::open(f.path);
    for (const io::TensorView& v : t.tensors()) {
      loaded.push_back({v.name, v.shape, v.to_float32()});
      elements += v.element_count();
    }
  }
  CollectOptions options;
  options.threads = threads;

  auto in_memory = [&]() {
    // Same work split as collect(): items handed to `threads` workers, per-worker partial states.
    std::vector<CalibrationState> partial(threads);
    std::atomic<std::size_t> next{0};
    auto worker = [&](unsigned t) {
      for (std::size_t i; (i = next.fetch_add(1)) < loaded.size();)
        add_batch(partial[t], {loaded[i].name, loaded[i].shape, loaded[i].data.data()}, options.observers);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker, t);
    worker(0);
    for (auto& th : pool) th.join();
    CalibrationState s;
    for (auto& p : partial) s.merge(p);
    return s;
  };

  // Warm up (page cache, allocator) and check both give the same state.
  const CalibrationState a = collect(inputs, options), b = in_memory();
  if (a.serialize() != b.serialize()) {
    std::fprintf(stderr, "bench_collect: file and in-memory states differ\n");
    return 3;
  }
  std::vector<double> t_file, t_mem;
  for (unsigned r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    collect(inputs, options);
    auto t1 = std::chrono::steady_clock::now();
    in_memory();
    auto t2 = std::chrono::steady_clock::now();
    t_file.push_back(std::chrono::duration<double>(t1 - t0).count());
    t_mem.push_back(std::chrono::duration<double>(t2 - t1).count());
  }
  const double f = median(t_file), m = median(t_mem);
  std::printf(
      "bench_collect: %zu files, %.1f MB, %llu float32 values, %zu layers, %u thread(s), %zu bins, "
      "per-tensor + per-channel (axis 1) observers, median of %u\n",
      inputs.size(), bytes / 1e6, static_cast<unsigned long long>(elements), a.layers.size(), threads,
      options.observers.bins, repeats);
  std::printf("  qkern collect (files in the page cache): %8.3f s  %8.1f M values/s  %8.1f MB/s\n", f,
              elements / f / 1e6, bytes / f / 1e6);
  std::printf("  in-memory calibration stream:           %8.3f s  %8.1f M values/s\n", m, elements / m / 1e6);
  std::printf("  ratio collect / in-memory:               %.3f (target >= 0.7)\n", m / f);
  if (synthetic) fs::remove_all(dir);
  return 0;
}
