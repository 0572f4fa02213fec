// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// export.hpp: fitted layers to the calibration formats of tools/qkern/formats (TensorRT cache,
// ONNX Runtime calibration table and cache, AIMET encodings, qkern JSON), and qkern JSON back to
// quantization parameters (quantize / dequantize).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fitting.hpp"

namespace qkern::tool {

/// Formats `export --format` accepts, in the order `run` writes them, with their default file names.
struct ExportFormat {
  const char* name;       ///< trt-cache, ort-table, ort-cache, aimet, qkern-json
  const char* file_name;  ///< file `run` writes
  const char* tool;       ///< convention used when --tool is not given
  const char* scheme;     ///< scheme used when --scheme is not given
};
const std::vector<ExportFormat>& export_formats();
/// Throws InvalidArgument naming "--format" for an unknown name.
const ExportFormat& export_format(const std::string& name);

/// Writes `fits` to `path` in `format`. Throws DataError naming the file or layer when the format
/// cannot carry the result (e.g. per-channel parameters in a TensorRT cache).
void write_export(const std::string& format, const std::string& path, const std::vector<LayerFit>& fits,
                  const std::map<std::string, std::string>& meta);

/// Parameters of one layer read from a qkern JSON file.
struct LayerParams {
  std::string name;
  DType dtype = DType::int8;
  std::int32_t qmin = 0, qmax = 0;
  int axis = -1;
  std::vector<float> scales;
  std::vector<std::int32_t> zero_points;
  Convention convention = Convention::qkern;
};
/// Every layer of a qkern JSON file (export --format qkern-json), by name.
std::map<std::string, LayerParams> read_params(const std::string& path);

}  // namespace qkern::tool
