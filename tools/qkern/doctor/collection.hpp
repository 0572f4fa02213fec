// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// doctor/collection.hpp: the streaming collection of `qkern doctor` (docs/doctor.md, "Streaming").
// A dump is read once, through the file loop and the observers of `qkern collect`
// (for_each_tensor, add_batch: same workers, same zero-copy mapping, one file in flight per worker),
// and reduced to what the checklist needs, in memory bounded independently of the dump's size:
//
//   exact (every value):  shapes and sample counts; per-layer and per-channel min / max (collect's
//                         observers); per-channel first and second moments of the BN inputs
//                         (summed in double per file, files merged in file-name order: the same
//                         for any thread count); the whole calibration state `qkern collect` writes.
//   sampled (bounded):    every stride-th sample of each layer (global sample index in file-name
//                         order, stride = ceil(samples / kept) with kept = max(2, sample_values /
//                         values per sample)) for the display histogram, the reference distance and
//                         the held-out range check; the first max_images images for the image
//                         content checks and the thumbnails.
//
// When a layer fits the budget (stride 1) and the images fit max_images, the kept data is the whole
// layer and every doctor result equals the in-memory run (collect_in_memory, used by the tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "collect.hpp"
#include "qkern/analysis/domain_checks.hpp"

namespace qkern::tool::doctor {

struct Tensor;

struct CollectionOptions {
  unsigned threads = 1;  ///< workers of the file loop (as `qkern collect -j`)
  /// Values (float32) kept per layer for the sampled checks: 8 Mi values = 32 MB per layer.
  std::size_t sample_values = std::size_t{8} << 20;
  std::size_t max_images = 4096;  ///< first images kept for the image content checks
  std::string images_layer = "input";
  std::set<std::string> moment_layers;  ///< layers whose per-channel moments are summed (BN inputs)
  ObserverOptions observers;            ///< collect's observers (defaults: as `qkern collect`)
  ProgressFn progress;                  ///< may be empty
};

/// What the doctor keeps of one layer.
struct LayerStats {
  std::string name;
  std::vector<std::size_t> shape;                   ///< dimension 0: every sample of the dump
  std::size_t stride = 1;                           ///< kept samples are 0, stride, 2 stride, ... (global index)
  std::vector<float> kept;                          ///< those samples back to back
  std::optional<analysis::ChannelMoments> moments;  ///< exact; only for CollectionOptions::moment_layers
  MinMax range;                                     ///< exact, every value
  std::vector<MinMax> channel_ranges;               ///< exact, along axis 1 (one channel for rank 1)

  std::size_t samples() const { return shape.empty() ? 0 : shape[0]; }
  std::size_t per_sample() const;
  std::size_t kept_samples() const { return per_sample() ? kept.size() / per_sample() : 0; }
  bool sampled() const { return kept_samples() != samples(); }
  /// {1, C, rest} for rank >= 2 (channel axis 1), {1, 1, n} for rank 1.
  ChannelLayout sample_layout() const;
};

struct Collection {
  std::vector<LayerStats> layers;  ///< graph order (as load_layers)
  CalibrationState state;          ///< collect's observers: the state `qkern collect` writes for these files
  std::size_t image_count = 0;     ///< images of images_layer in the dump
  std::vector<float> images;       ///< its first min(image_count, max_images) images
  std::size_t files = 0;
  std::uint64_t bytes = 0;
  double seconds = 0.0;  ///< wall time of the collection
  const LayerStats* find(const std::string& name) const;
};

/// The tensor files of a dump directory (not recursing; .npy, .npz, .safetensors), sorted by path.
std::vector<InputFile> list_dump(const std::string& dir);

/// Streams `files` once (tensors of one name concatenated along axis 0 in list order). Throws
/// DataError naming the file (and layer) on a bad file or a per-sample shape that differs between
/// files, as load_layers.
Collection collect_dump(const std::vector<InputFile>& files, const CollectionOptions& options);

/// The same statistics from layers already in memory (load_layers): the reference the streaming
/// collection is tested against. `state` is left empty.
Collection collect_in_memory(const std::vector<Tensor>& layers, const CollectionOptions& options);

/// Graph order of layer names: "input" first, then by the trailing number of the name, then by name.
bool graph_order(const std::string& a, const std::string& b);

}  // namespace qkern::tool::doctor
