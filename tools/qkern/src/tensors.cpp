// qkern tool — SPDX-License-Identifier: Apache-2.0
#include "tensors.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "qkern/io.hpp"
#include "qkern/quantize.hpp"

namespace qkern::tool {
namespace {

std::string extension_of(const std::string& path) {
  std::string e = std::filesystem::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return e;
}

void write_tensors(const std::string& path, const std::vector<io::TensorRef>& ts, const std::string& from) {
  const std::string ext = extension_of(path);
  if (ext == ".npy") {
    if (ts.size() != 1)
      throw InvalidArgument("--output", "a .npy file holds one tensor but " + from + " has " +
                                            std::to_string(ts.size()) + "; use .npz or .safetensors");
    io::write_npy(path, ts[0]);
  } else if (ext == ".npz") {
    io::write_npz(path, ts);
  } else if (ext == ".safetensors") {
    io::write_safetensors(path, ts, {{"producer", "qkern"}});
  } else {
    throw InvalidArgument("--output", "extension of '" + path + "' must be .npy, .npz or .safetensors");
  }
}

const LayerParams& params_for(const std::map<std::string, LayerParams>& params, const io::TensorView& v,
                              const std::string& file, const std::string& layer) {
  auto it = params.find(layer.empty() ? v.name : layer);
  if (it == params.end()) {
    if (!layer.empty()) throw InvalidArgument("--layer", "no layer '" + layer + "' in the parameters");
    throw DataError(file + ": tensor '" + v.name + "' has no parameters (no layer of that name; use --layer)");
  }
  const LayerParams& p = it->second;
  if (p.axis >= 0) {
    if (static_cast<std::size_t>(p.axis) >= v.shape.size() || v.shape[p.axis] != p.scales.size())
      throw DataError(file + ": tensor '" + v.name + "' of shape " + io::detail::shape_string(v.shape) +
                      " does not match its " + std::to_string(p.scales.size()) + " per-channel parameters on axis " +
                      std::to_string(p.axis));
  }
  return p;
}

QuantParams tensor_params(const LayerParams& p, std::size_t c) {
  QuantParams q = QuantParams::make(p.dtype, p.scales[c], p.zero_points[c], QRange{p.qmin, p.qmax},
                                    detail::convention_arithmetic(p.convention));
  return q;
}

ChannelQuantParams channel_params(const LayerParams& p) {
  ChannelQuantParams c;
  c.scale = p.scales;
  c.zero_point = p.zero_points;
  c.dtype = p.dtype;
  c.qmin = p.qmin;
  c.qmax = p.qmax;
  c.arithmetic = detail::convention_arithmetic(p.convention);
  return c;
}

template <class Q>
void quantize_into(const float* x, std::vector<std::uint8_t>& bytes, const io::TensorView& v, const LayerParams& p) {
  const std::size_t n = v.element_count();
  bytes.resize(n * sizeof(Q));
  Q* q = reinterpret_cast<Q*>(bytes.data());
  if (p.axis >= 0)
    quantize(x, q, ChannelLayout::from_shape(v.shape, p.axis), channel_params(p));
  else
    quantize(x, q, n, tensor_params(p, 0));
}

io::ElementType storage_type(DType t) {
  switch (t) {
    case DType::int4:
    case DType::int8:
      return io::ElementType::i8;
    case DType::uint4:
    case DType::uint8:
      return io::ElementType::u8;
    case DType::int16:
      return io::ElementType::i16;
    case DType::uint16:
      return io::ElementType::u16;
    case DType::int32:
      return io::ElementType::i32;
  }
  return io::ElementType::i8;
}

}  // namespace

void quantize_file(const std::string& in, const std::map<std::string, LayerParams>& params, const std::string& out,
                   const std::string& layer) {
  const io::TensorFile file = io::TensorFile::open(in);
  std::vector<std::vector<std::uint8_t>> storage(file.tensors().size());
  std::vector<io::TensorRef> refs;
  std::vector<float> buffer;
  for (std::size_t i = 0; i < file.tensors().size(); ++i) {
    const io::TensorView& v = file.tensors()[i];
    const LayerParams& p = params_for(params, v, in, layer);
    const float* x = v.as_float32();
    if (x == nullptr) {
      buffer = v.to_float32();
      x = buffer.data();
    }
    switch (p.dtype) {
      case DType::int4:
      case DType::int8:
        quantize_into<std::int8_t>(x, storage[i], v, p);
        break;
      case DType::uint4:
      case DType::uint8:
        quantize_into<std::uint8_t>(x, storage[i], v, p);
        break;
      case DType::int16:
        quantize_into<std::int16_t>(x, storage[i], v, p);
        break;
      case DType::uint16:
        quantize_into<std::uint16_t>(x, storage[i], v, p);
        break;
      case DType::int32:
        throw DataError(in + ": tensor '" + v.name + "': int32 parameters cannot quantize tensors");
    }
    refs.push_back({v.name, storage_type(p.dtype), v.shape, storage[i].data()});
  }
  write_tensors(out, refs, in);
}

void dequantize_file(const std::string& in, const std::map<std::string, LayerParams>& params, const std::string& out,
                     const std::string& layer) {
  const io::TensorFile file = io::TensorFile::open(in);
  std::vector<std::vector<float>> storage(file.tensors().size());
  std::vector<io::TensorRef> refs;
  for (std::size_t i = 0; i < file.tensors().size(); ++i) {
    const io::TensorView& v = file.tensors()[i];
    const LayerParams& p = params_for(params, v, in, layer);
    switch (v.dtype) {
      case io::ElementType::i8:
      case io::ElementType::u8:
      case io::ElementType::i16:
      case io::ElementType::u16:
        break;
      default:
        throw DataError(in + ": tensor '" + v.name + "' is not an integer code tensor (dtype " +
                        io::element_type_name(v.dtype) + ")");
    }
    std::vector<float>& x = storage[i];
    x = v.to_float32();  // integer codes up to 16 bits are exact in float32
    const ChannelLayout l =
        p.axis >= 0 ? ChannelLayout::from_shape(v.shape, p.axis) : ChannelLayout{1, 1, v.element_count()};
    for (std::size_t o = 0; o < l.outer; ++o)
      for (std::size_t c = 0; c < l.channels; ++c) {
        const std::size_t pc = p.axis >= 0 ? c : 0;
        const float scale = p.scales[pc];
        const std::int32_t zp = p.zero_points[pc];
        float* run = x.data() + (o * l.channels + c) * l.inner;
        for (std::size_t k = 0; k < l.inner; ++k) {
          const double q = run[k];
          if (q < p.qmin || q > p.qmax)
            throw DataError(in + ": tensor '" + v.name + "' holds code " + std::to_string(static_cast<long long>(q)) +
                            " outside [" + std::to_string(p.qmin) + ", " + std::to_string(p.qmax) + "]");
          run[k] = static_cast<float>(static_cast<std::int64_t>(q) - zp) * scale;
        }
      }
    refs.push_back({v.name, io::ElementType::f32, v.shape, x.data()});
  }
  write_tensors(out, refs, in);
}

}  // namespace qkern::tool
