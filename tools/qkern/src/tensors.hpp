// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// tensors.hpp: `qkern quantize` / `dequantize`: every tensor of a file through the parameters of
// the layer of the same name, written as .npy (one tensor), .npz or safetensors by extension.
#pragma once

#include <map>
#include <string>

#include "export.hpp"

namespace qkern::tool {

/// Codes as int8 / uint8 / int16 / uint16 tensors (int4 / uint4 one code per byte). Throws DataError
/// naming the file and tensor when a tensor has no parameters or their channel count differs.
/// `layer` non-empty: every tensor uses that layer's parameters (e.g. a .npy whose stem is not the
/// layer's name).
void quantize_file(const std::string& in, const std::map<std::string, LayerParams>& params, const std::string& out,
                   const std::string& layer = "");
/// float32 tensors (float)(q - zero_point) * scale from integer code tensors.
void dequantize_file(const std::string& in, const std::map<std::string, LayerParams>& params, const std::string& out,
                     const std::string& layer = "");

}  // namespace qkern::tool
