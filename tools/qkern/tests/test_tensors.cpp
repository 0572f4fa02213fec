// qkern tool tests — SPDX-License-Identifier: Apache-2.0
//
// test_tensors.cpp: quantize_file / dequantize_file against the library's quantize and
// fake_quantize (per tensor and per channel, every code type), through real files in each
// container, and the qkern JSON parameters written by `export` read back exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "collect.hpp"
#include "export.hpp"
#include "qkern/io.hpp"
#include "qkern/quantize.hpp"
#include "tensors.hpp"

namespace {

using namespace qkern;
using namespace qkern::tool;
namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("qkern_tool_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

TEST(ToolTensors, QuantizeDequantizeMatchTheLibrary) {
  TempDir dir;
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.1f, 2.0f);
  std::vector<float> x(4 * 3 * 25);
  for (float& v : x) v = g(rng);
  CalibrationState s;
  add_batch(s, {"act", {4, 3, 25}, x.data()}, {});
  for (DType t : {DType::int8, DType::uint8, DType::int16, DType::uint16, DType::int4}) {
    for (bool per_channel : {false, true}) {
      FitSettings fs;
      fs.dtype = t;
      fs.scheme = Scheme::affine;
      fs.per_channel = per_channel;
      fs.convention = Convention::pytorch;
      const std::string params = dir / "p.json";
      write_export("qkern-json", params, {fit_layer(s.layers[0], fs)}, {});
      const std::map<std::string, LayerParams> p = read_params(params);
      const LayerParams& lp = p.at("act");
      ASSERT_EQ(lp.scales.size(), per_channel ? 3u : 1u);
      io::write_npz(dir / "in.npz", {{"act", io::ElementType::f32, {4, 3, 25}, x.data()}});
      quantize_file(dir / "in.npz", p, dir / "codes.safetensors");
      dequantize_file(dir / "codes.safetensors", p, dir / "back.npy");
      // expected: the library's fake_quantize with the same parameters
      std::vector<float> want(x.size());
      const Arithmetic a = Arithmetic::pytorch();
      if (per_channel) {
        ChannelQuantParams cp;
        cp.dtype = t;
        cp.qmin = lp.qmin;
        cp.qmax = lp.qmax;
        cp.arithmetic = a;
        cp.scale = lp.scales;
        cp.zero_point = lp.zero_points;
        fake_quantize(x.data(), want.data(), ChannelLayout{4, 3, 25}, cp);
      } else {
        fake_quantize(x.data(), want.data(), x.size(),
                      QuantParams::make(t, lp.scales[0], lp.zero_points[0], QRange{lp.qmin, lp.qmax}, a));
      }
      const io::TensorFile codes = io::TensorFile::open(dir / "codes.safetensors");
      ASSERT_EQ(codes.tensors().size(), 1u);
      EXPECT_EQ(codes.tensors()[0].shape, (std::vector<std::size_t>{4, 3, 25}));
      const io::TensorFile back = io::TensorFile::open(dir / "back.npy");
      const std::vector<float> got = back.tensors()[0].to_float32();
      ASSERT_EQ(got.size(), want.size());
      EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
          << dtype_name(t) << (per_channel ? " per channel" : " per tensor");
    }
  }
}

TEST(ToolTensors, ErrorsNameFileAndTensor) {
  TempDir dir;
  std::vector<float> x(10, 1.0f);
  CalibrationState s;
  add_batch(s, {"a", {10}, x.data()}, {});
  write_export("qkern-json", dir / "p.json", {fit_layer(s.layers[0], {})}, {});
  const auto p = read_params(dir / "p.json");
  io::write_npz(dir / "in.npz", {{"b", io::ElementType::f32, {10}, x.data()}});
  try {
    quantize_file(dir / "in.npz", p, dir / "out.npz");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("in.npz"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'b'"), std::string::npos) << e.what();
  }
  quantize_file(dir / "in.npz", p, dir / "out.npz", "a");  // --layer
  EXPECT_THROW(quantize_file(dir / "in.npz", p, dir / "out.txt", "a"), InvalidArgument);
  // float tensors are not codes
  EXPECT_THROW(dequantize_file(dir / "in.npz", p, dir / "x.npz", "a"), DataError);
}

}  // namespace
