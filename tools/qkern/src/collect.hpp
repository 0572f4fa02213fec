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

struct CollectOptions {
  ObserverOptions observers;
  unsigned threads = 1;
  /// Called from the collecting threads' coordinator about every 100 ms and at the end (may be empty).
  std::function<void(std::size_t files_done, std::size_t files_total, std::uint64_t bytes_done,
                     std::uint64_t bytes_total)>
      progress;
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

/// Adds a batch to `state`: updates its layer in place, or creates it (with `options`). Exactly what
/// collect() does per tensor.
void add_batch(CalibrationState& state, const Batch& batch, const ObserverOptions& options);

}  // namespace qkern::tool
