// qkern — SPDX-License-Identifier: Apache-2.0
//
// calibration_result.hpp: the fitted calibration of a set of tensors (LayerCalibration /
// CalibrationSet) and its exports to, and imports from, the files deployment tools read:
//
//   TensorRT calibration cache     write_trt_cache / read_trt_cache          (text, per-tensor scale)
//   ONNX Runtime calibration table write_ort_table / read_ort_table          (calibration.json)
//                                  write_ort_cache / read_ort_cache          (calibration.cache text)
//   AIMET encodings (0.6.1, 1.0.0) write_aimet_encodings / read_aimet_encodings
//   qkern JSON (lossless)          write_qkern_json / read_qkern_json
//
// docs/formats.md describes each format, the tool version and source it was checked against, and
// what each one can carry. Every reader reports a bad file as a qkern::DataError whose message names
// the file and the line (text formats) or the JSON key path (JSON formats) and the problem; a writer
// given a CalibrationSet its format cannot express throws qkern::InvalidArgument naming the layer.
// The *_string variants parse / produce the file content in memory (`source` names it in errors).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "qkern/core/dtype.hpp"
#include "qkern/core/error.hpp"

namespace qkern::tool {

/// One tensor's fitted quantization, lossless. Per tensor: every vector has one element; per
/// channel (axis >= 0): scales, zero_points, range_min/max and observed_min/max have one element
/// per channel (observed_* may also be empty when unknown).
struct LayerCalibration {
  std::string name;
  qkern::DType dtype = qkern::DType::int8;  ///< int8, uint8, int16, ... (core/dtype.hpp)
  std::int64_t qmin = -128, qmax = 127;     ///< code range actually used (narrow int8 = [-127, 127])
  std::string scheme = "symmetric";         ///< "symmetric" | "affine"
  std::string method = "minmax";            ///< "minmax" | "percentile" | "mse" | "entropy" | ...
  std::string convention = "qkern";         ///< qkern::Convention name ("pytorch", "tensorrt", ...)
  int axis = -1;                            ///< per-channel axis, -1 = per tensor
  std::vector<double> scales;               ///< real = (code - zero_point) * scale
  std::vector<std::int64_t> zero_points;
  std::vector<double> range_min, range_max;        ///< fitted (clip) range
  std::vector<double> observed_min, observed_max;  ///< data range seen
  std::uint64_t finite = 0, nan = 0, pos_inf = 0, neg_inf = 0;
  std::map<std::string, double> summary;  ///< optional extra statistics (percentiles, sqnr ...)
  /// "activation" (default when empty) or "weight": which list AIMET puts the tensor in
  /// (activation_encodings / param_encodings). Extension of the agreed API; other formats ignore it.
  std::string kind;
};

struct CalibrationSet {
  std::vector<LayerCalibration> layers;
  std::map<std::string, std::string> meta;  ///< free-form provenance (tool version, dump, date ...)
};

// ---- TensorRT calibration cache -----------------------------------------------------------------
/// Header line default: TensorRT 8.6.1, entropy calibrator 2. Per-tensor symmetric only: each line
/// is `name: hex` with hex the big-endian bits of float32(amax / 127), amax = max(|range_min|,
/// |range_max|). Per-channel layers and layers with amax == 0 or non-finite are rejected.
inline constexpr const char* kDefaultTrtHeader = "TRT-8601-EntropyCalibration2";
void write_trt_cache(const std::string& path, const CalibrationSet&, const std::string& header = kDefaultTrtHeader);
std::string write_trt_cache_string(const CalibrationSet&, const std::string& header = kDefaultTrtHeader);
/// Layers read back: int8, qmin -127, qmax 127, symmetric, convention "tensorrt", method "unknown",
/// scale = the float32 read, range = [-127 scale, 127 scale]; meta["trt_header"] = the header line.
CalibrationSet read_trt_cache(const std::string& path);
CalibrationSet read_trt_cache_string(const std::string& text, const std::string& source);

// ---- ONNX Runtime -------------------------------------------------------------------------------
/// calibration.json as onnxruntime.quantization.quant_utils.write_calibration_table writes the
/// TensorsData that calibrator.compute_data() returns: lowest / highest = range_min / range_max
/// (float32, one per channel when per channel).
void write_ort_table(const std::string& path, const CalibrationSet&);
std::string write_ort_table_string(const CalibrationSet&);
/// Accepts the current TensorsData form, a plain {name: TensorData} object, and the pre-1.17
/// {name: [lowest, highest]} form. Layers read back: range_min/max = lowest/highest, scheme
/// "affine" (or "symmetric" when lowest == -highest), dtype uint8/int8 parameters are NOT known
/// (scales/zero_points empty, method from calibration_method or "unknown").
CalibrationSet read_ort_table(const std::string& path);
CalibrationSet read_ort_table_string(const std::string& text, const std::string& source);
/// calibration.cache: `name value` lines, value = str(max(highest, lowest)) as ONNX Runtime writes
/// it (see docs/formats.md for why that is not max |.|). Per-channel layers are rejected.
void write_ort_cache(const std::string& path, const CalibrationSet&);
std::string write_ort_cache_string(const CalibrationSet&);
CalibrationSet read_ort_cache(const std::string& path);
CalibrationSet read_ort_cache_string(const std::string& text, const std::string& source);

// ---- AIMET encodings (format versions 0.6.1 and 1.0.0) ------------------------------------------
/// version "0.6.1" (default: {name: [Encoding...]}, what QNN's --quantization_overrides reads) or
/// "1.0.0" (lists with enc_type). Needs fitted scales; kind "weight" layers go to param_encodings.
void write_aimet_encodings(const std::string& path, const CalibrationSet&, const std::string& version = "0.6.1");
std::string write_aimet_encodings_string(const CalibrationSet&, const std::string& version = "0.6.1");
/// Reads 0.x (0.4.0 ... 0.6.1, or no version key) and 1.0.0 (PER_TENSOR / PER_CHANNEL) files.
CalibrationSet read_aimet_encodings(const std::string& path);
CalibrationSet read_aimet_encodings_string(const std::string& text, const std::string& source);

// ---- qkern JSON (lossless) ---------------------------------------------------------------------
/// Every field of every layer; doubles are printed shortest-round-trip, so read(write(s)) == s.
inline constexpr const char* kQkernJsonFormat = "qkern-calibration";
inline constexpr int kQkernJsonVersion = 1;
void write_qkern_json(const std::string& path, const CalibrationSet&);
std::string write_qkern_json_string(const CalibrationSet&);
CalibrationSet read_qkern_json(const std::string& path);
CalibrationSet read_qkern_json_string(const std::string& text, const std::string& source);

// ---- helpers shared with the tool ---------------------------------------------------------------
/// Shortest decimal that reads back as the same double, spelled as Python's repr(float) does
/// ("0.1", "1e-05", "100000.0", "1.5e+16"). Non-finite values are rejected (InvalidArgument).
std::string format_double(double v);
/// DType from its name ("int8", "uint8", ...); throws InvalidArgument naming `argument`.
qkern::DType dtype_from_name(const std::string& name, const char* argument = "dtype");
bool operator==(const LayerCalibration& a, const LayerCalibration& b);
inline bool operator!=(const LayerCalibration& a, const LayerCalibration& b) { return !(a == b); }
bool operator==(const CalibrationSet& a, const CalibrationSet& b);
inline bool operator!=(const CalibrationSet& a, const CalibrationSet& b) { return !(a == b); }

}  // namespace qkern::tool
