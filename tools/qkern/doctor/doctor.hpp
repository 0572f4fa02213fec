// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// doctor/doctor.hpp: `qkern doctor`, the accuracy checklist run on a dump (docs/doctor.md).
// Streams a calibration dump (per-layer activations, batch axis 0) once through `qkern collect`'s
// file loop and observers in bounded memory (collection.hpp), finds the model's BatchNorm
// statistics, a reference set, the test outputs and labels next to it, runs the four suspects of
// qkern/analysis in order, and renders the result as text (verdict lines + per-layer table) or as
// one self-contained HTML report.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "qkern/analysis/diagnosis.hpp"
#include "qkern/analysis/domain_checks.hpp"
#include "qkern/analysis/emulation_checks.hpp"
#include "qkern/analysis/paired_stats.hpp"
#include "qkern/analysis/range_checks.hpp"
#include "state.hpp"

namespace qkern::tool::doctor {

/// A float32 tensor loaded from a dump (batch axis 0).
struct Tensor {
  std::string name;
  std::vector<std::size_t> shape;
  std::vector<float> data;
  std::size_t samples() const { return shape.empty() ? 0 : shape[0]; }
  std::size_t per_sample() const { return samples() ? data.size() / samples() : 0; }
  /// {1, C, rest} for rank >= 2 (channel axis 1), {1, 1, n} for rank 1.
  ChannelLayout sample_layout() const;
};

/// Every tensor of a file (.npy / .npz / safetensors), as float32. Throws qkern::DataError naming
/// the file (and key) on bad input.
std::vector<Tensor> load_file(const std::string& path);

/// The layers of a dump directory: every tensor file in it (not recursing), tensors of one name
/// concatenated along axis 0 in lexicographic file order. Graph order: "input" first, then by the
/// trailing number of the name, then by name (conv1, relu1, conv2, relu2, fc).
std::vector<Tensor> load_layers(const std::string& dir);

/// Where the doctor reads from. Empty paths are discovered (docs/doctor.md, "Inputs").
struct Inputs {
  std::string dump;       ///< the calibration dump: DIR/calib/ if it exists, else DIR
  std::string model;      ///< the model directory (bn.npz, ref/, original float logits); default DUMP
  std::string reference;  ///< reference activations (default MODEL/ref when present)
  std::string bn;         ///< BN parameters (default MODEL/bn.npz when present)
  std::string original;   ///< original model's float outputs (default MODEL/test_logits_float.npy)
  std::string emulated;   ///< float emulation outputs (default DUMP/test_logits_float.npy)
  std::string quantized;  ///< quantized outputs (default DUMP/test_logits_int8.npy)
  std::string labels;     ///< ground truth (default test/labels.npy in DUMP or a parent)
  /// Per-layer dumps of the original model and of the float emulation on the same inputs
  /// (directories, layers as in DUMP): the first layer where they diverge. Not discovered.
  std::string original_layers, emulated_layers;
  std::string images_layer = "input";  ///< the layer holding the (normalized) input images
};

struct Options {
  analysis::DomainCheckOptions domain;
  analysis::EmulationCheckOptions emulation;
  analysis::PairedStatsOptions stats;
  analysis::RangeCheckOptions ranges;
  std::size_t top_k = 1;
  /// Collection (docs/doctor.md, "Streaming"): workers of the file loop (0: hardware threads), values
  /// kept per layer for the sampled checks, first images kept for the image checks.
  unsigned threads = 0;
  std::size_t sample_values = std::size_t{8} << 20;
  std::size_t max_images = 4096;
  /// Progress of the collection (files, bytes; as `qkern collect`'s), may be empty.
  std::function<void(std::size_t, std::size_t, std::uint64_t, std::uint64_t)> progress;
};

/// One layer's row of the table (and of the report's charts).
struct LayerRow {
  std::string name;
  std::vector<std::size_t> shape;
  std::string bn;  ///< the BN layer it feeds ("" when none)
  std::optional<analysis::BatchNormCheck> bn_check;
  std::optional<analysis::DistributionDistance> reference;
  std::optional<analysis::RangeCheck> range;  ///< not run on pre-BN layers (folded away)
  // Display histogram of the calibration values (64 bins over the observed range).
  double hist_lo = 0.0, hist_hi = 0.0;
  std::vector<std::uint64_t> hist;
  std::vector<float> channel_min, channel_max;
};

struct Report {
  Inputs inputs;
  std::size_t calibration_samples = 0;
  std::vector<analysis::Diagnosis> diagnoses;  ///< every finding, suspects 1..4 in order
  std::vector<LayerRow> layers;
  std::optional<analysis::EmulationCheck> emulation;
  std::optional<analysis::ThreeWayStatistics> three_way;
  std::optional<analysis::ImageCheck> images;
  std::size_t image_height = 0, image_width = 0, image_channels = 0;
  std::vector<float> image_data;   ///< the first images of the images layer (for thumbnails)
  std::vector<std::string> notes;  ///< what could not be checked and why
  /// The collection: the state `qkern collect` writes for the calibration files, and its cost.
  CalibrationState state;
  double collection_seconds = 0.0;
  std::uint64_t collection_bytes = 0;
  std::size_t collection_files = 0;
  analysis::Severity verdict(analysis::Suspect s) const { return analysis::verdict(diagnoses, s); }
  bool checked(analysis::Suspect s) const;
};

/// Fills the empty paths of `in` by discovery; throws qkern::DataError when the dump has no layer.
Inputs discover(Inputs in);

/// Runs the checklist. Throws qkern::DataError naming file / layer on bad input.
Report run(const Inputs& inputs, const Options& options = {});

/// Verdict lines (one per suspect), the findings, then the per-layer table.
std::string format_text(const Report& r);

/// One self-contained HTML file (inline SVG, inline CSS, no script, no network).
std::string format_html(const Report& r);

}  // namespace qkern::tool::doctor
