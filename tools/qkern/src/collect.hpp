// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// collect.hpp: `qkern collect`: tensors from .npy / .npz / safetensors files into a
// CalibrationState. A .npy file holds one layer (named by the file's stem), a .npz or safetensors
// file one layer per key; batches of one layer in several files are concatenated along axis 0.
// Files are processed by N threads into per-thread partial states merged at the end; every merge
// is exact, so the state is bit-identical for any split, order or thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "state.hpp"

namespace qkern::tool {

/// Progress callback: called from the collecting threads' coordinator about every 100 ms and at the end.
using ProgressFn = std::function<void(std::size_t files_done, std::size_t files_total, std::uint64_t bytes_done,
                                      std::uint64_t bytes_total)>;

struct CollectOptions {
  ObserverOptions observers;
  unsigned threads = 1;
  ProgressFn progress;  ///< may be empty
};

/// An input file and its size in bytes.
struct InputFile {
  std::string path;
  std::uint64_t bytes = 0;
};

/// The tensor files named by `paths`: files as given, directories searched recursively for *.npy,
/// *.npz and *.safetensors (case-insensitive extension). Sorted by path, duplicates removed. Throws
/// DataError naming a path that does not exist, and when no tensor file is found at all.
std::vector<InputFile> list_inputs(const std::vector<std::string>& paths);

/// Collects every tensor of every file. Throws DataError naming the file (and layer) on a bad file,
/// a shape that cannot be concatenated, or a read error.
CalibrationState collect(const std::vector<InputFile>& files, const CollectOptions& options);

/// One in-memory batch of a layer (float32, C order).
struct Batch {
  std::string name;
  std::vector<std::size_t> shape;
  const float* data = nullptr;
};

/// The file loop of collect(), for any consumer of the tensors (collect's observers, `qkern doctor`):
/// the files are handed to worker_count(threads, files.size()) workers in list order (each takes the
/// next unclaimed file); every tensor of a file, as float32 (zero copy when the file stores C-order
/// float32, else converted into a per-worker buffer), is passed to `sink(worker, file_index, batch)`
/// on that worker's thread, the tensors of one file in file order. A file is mapped only while its
/// tensors are consumed, so memory stays bounded by the files in flight. Throws DataError naming the
/// file (the first failing file in list order) when a file cannot be read or `sink` throws DataError;
/// other exceptions of `sink` are rethrown as they are.
using TensorSink = std::function<void(unsigned worker, std::size_t file, const Batch& batch)>;
void for_each_tensor(const std::vector<InputFile>& files, unsigned threads, const ProgressFn& progress,
                     const TensorSink& sink);
/// Workers for_each_tensor (and collect) use: threads clamped to [1, files].
unsigned worker_count(unsigned threads, std::size_t files);

/// Adds a batch to `state`: updates its layer in place, or creates it (with `options`). Exactly what
/// collect() does per tensor.
void add_batch(CalibrationState& state, const Batch& batch, const ObserverOptions& options);

}  // namespace qkern::tool
