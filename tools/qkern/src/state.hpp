// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// state.hpp: the calibration state `qkern collect` writes and every other command reads: per layer
// (tensor name), its shape (dimension 0 = rows of every batch concatenated) and the serialized
// observers (calib/observers.hpp). Merging is exact, so the state is a function of the data only,
// whatever the split or order of the input files (format: docs/tool.md "State file").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qkern/calib/observers.hpp"

namespace qkern::tool {

/// Options of the observers a layer collects.
struct ObserverOptions {
  std::size_t bins = 2048;  ///< bins of every streaming histogram
  /// Per-channel axis of each batch tensor (negative counts from the end), or nullopt for per-tensor
  /// observers only. Layers whose axis resolves to 0 (the batch axis) or out of range (rank < 2 for
  /// the default 1) get per-tensor observers only.
  std::optional<int> channel_axis = 1;
};

/// One layer's observers: per tensor (min/max, histogram of x, histogram of |x|) and, when the
/// layer has a channel axis, the same three per channel.
class LayerState {
 public:
  /// An empty layer for batches of shape `batch_shape` (dimension 0 may be anything).
  LayerState(std::string name, const std::vector<std::size_t>& batch_shape, const ObserverOptions& options);

  /// Adds one batch. Throws DataError naming the layer when its shape differs from the layer's
  /// except in dimension 0.
  void update(const float* x, const std::vector<std::size_t>& shape);
  /// Adds another state of the same layer (exact). Throws DataError naming the layer when shapes,
  /// channel axis or bins differ.
  void merge(const LayerState& other);

  const std::string& name() const { return name_; }
  /// Dimension 0 counts the rows of every batch seen; the others are each batch's.
  const std::vector<std::uint64_t>& shape() const { return shape_; }
  int channel_axis() const { return axis_; }  ///< -1: per tensor only
  std::size_t channels() const { return axis_ < 0 ? 0 : static_cast<std::size_t>(shape_[axis_]); }
  std::size_t bins() const { return bins_; }
  std::uint64_t elements() const;

  const MinMaxObserver& minmax() const { return minmax_; }
  const HistogramObserver& histogram() const { return hist_; }
  const HistogramObserver& abs_histogram() const { return abs_hist_; }
  bool per_channel() const { return axis_ >= 0; }
  const PerChannelMinMaxObserver& channel_minmax() const { return *ch_minmax_; }
  const PerChannelHistogramObserver& channel_histogram() const { return *ch_hist_; }
  const PerChannelHistogramObserver& channel_abs_histogram() const { return *ch_abs_hist_; }

  /// Serialized observers, in a fixed order (see docs/tool.md).
  void write(std::vector<std::uint8_t>& out) const;
  /// Reads what write() wrote; `where` names the file in errors.
  static LayerState read(const std::uint8_t*& p, const std::uint8_t* end, const std::string& where);

  friend bool operator==(const LayerState& a, const LayerState& b);

 private:
  LayerState() = default;
  std::string name_;
  std::vector<std::uint64_t> shape_;
  int axis_ = -1;
  std::size_t bins_ = 2048;
  MinMaxObserver minmax_;
  HistogramObserver hist_, abs_hist_;
  std::optional<PerChannelMinMaxObserver> ch_minmax_;
  std::optional<PerChannelHistogramObserver> ch_hist_, ch_abs_hist_;
};

/// Every layer of a calibration, sorted by name.
struct CalibrationState {
  std::vector<LayerState> layers;

  /// Adds `layer` (merging into the layer of the same name, or inserting it in name order).
  void add(LayerState layer);
  /// Merges every layer of `other`.
  void merge(const CalibrationState& other);
  const LayerState* find(const std::string& name) const;

  std::vector<std::uint8_t> serialize() const;
  static CalibrationState deserialize(const std::vector<std::uint8_t>& bytes, const std::string& where);
  /// Writes atomically (temporary file + rename). Throws DataError naming the file on I/O errors.
  void save(const std::string& path) const;
  static CalibrationState load(const std::string& path);
};

/// The whole file as bytes. Throws DataError naming the file when it cannot be read.
std::vector<std::uint8_t> read_file_bytes(const std::string& path);
/// Writes `bytes` to path through a temporary file and a rename.
void write_file_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes);

}  // namespace qkern::tool
