// qkern — SPDX-License-Identifier: Apache-2.0
//
// test_formats.cpp: calibration exports / imports (tools/qkern/formats): golden files from
// golden/generate_formats_golden.py (transcriptions of TensorRT / ONNX Runtime / AIMET writers),
// round trips, real-world variants, bad input (errors name file and line / key), and every file of
// the fuzz corpora (crash regressions included) through every parser.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>

#include "calibration_result.hpp"
#include "qkern/core/choose_params.hpp"

using namespace qkern::tool;

namespace {

const std::string kGolden = QKERN_FORMATS_GOLDEN_DIR;
const std::string kCorpus = QKERN_FORMATS_CORPUS_DIR;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_path(const std::string& name) {
  return (::testing::TempDir().empty() ? std::string("/tmp/") : ::testing::TempDir()) + "qkern_formats_" +
         std::to_string(::getpid()) + "_" + name;
}

float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

CalibrationSet golden_input() { return read_qkern_json(kGolden + "/input.qkern.json"); }

// Runs `f`, expects a qkern::DataError whose message contains every needle.
template <class F>
void expect_data_error(F f, std::initializer_list<const char*> needles) {
  try {
    f();
    ADD_FAILURE() << "no DataError thrown";
  } catch (const qkern::DataError& e) {
    const std::string what = e.what();
    for (const char* n : needles) EXPECT_NE(what.find(n), std::string::npos) << "'" << n << "' not in: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception type: " << e.what();
  }
}

template <class F>
void expect_invalid_argument(F f, std::initializer_list<const char*> needles) {
  try {
    f();
    ADD_FAILURE() << "no InvalidArgument thrown";
  } catch (const qkern::InvalidArgument& e) {
    const std::string what = e.what();
    for (const char* n : needles) EXPECT_NE(what.find(n), std::string::npos) << "'" << n << "' not in: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception type: " << e.what();
  }
}

LayerCalibration sym_layer(const std::string& name, double amax) {
  LayerCalibration l;
  l.name = name;
  l.dtype = qkern::DType::int8;
  l.qmin = -127;
  l.qmax = 127;
  l.scheme = "symmetric";
  l.method = "minmax";
  l.convention = "tensorrt";
  l.scales = {amax / 127.0};
  l.zero_points = {0};
  l.range_min = {-amax};
  l.range_max = {amax};
  l.observed_min = {-amax * 0.9};
  l.observed_max = {amax};
  l.finite = 1000;
  return l;
}

}  // namespace

// ---- format_double: Python repr spelling, shortest round trip ----------------------------------

TEST(FormatsNumbers, FormatDoubleMatchesPythonRepr) {
  // golden/float_repr.txt: "<16 hex digits of the double> <repr(float)>" written by Python.
  std::ifstream in(kGolden + "/float_repr.txt");
  ASSERT_TRUE(in.good());
  std::string hex, repr;
  int n = 0;
  while (in >> hex >> repr) {
    const std::uint64_t bits = std::stoull(hex, nullptr, 16);
    double v;
    std::memcpy(&v, &bits, 8);
    EXPECT_EQ(format_double(v), repr) << hex;
    ++n;
  }
  EXPECT_GT(n, 1000);
}

TEST(FormatsNumbers, FormatDoubleRoundTripsRandomBits) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, 8);
    if (!std::isfinite(v)) continue;
    const std::string s = format_double(v);
    const double back = std::strtod(s.c_str(), nullptr);
    ASSERT_EQ(std::memcmp(&back, &v, 8), 0) << s;
  }
  EXPECT_THROW(format_double(std::numeric_limits<double>::quiet_NaN()), qkern::InvalidArgument);
  EXPECT_THROW(format_double(-std::numeric_limits<double>::infinity()), qkern::InvalidArgument);
}

// ---- golden files: byte-identical to the transcribed writers -----------------------------------

TEST(FormatsGolden, TrtCacheMatchesTensorRtLayout) {
  EXPECT_EQ(write_trt_cache_string(golden_input()), slurp(kGolden + "/expected.trt.cache"));
}

TEST(FormatsGolden, OrtTableMatchesWriteCalibrationTable) {
  EXPECT_EQ(write_ort_table_string(golden_input()), slurp(kGolden + "/expected.calibration.json"));
}

TEST(FormatsGolden, OrtCacheMatchesWriteCalibrationTable) {
  EXPECT_EQ(write_ort_cache_string(golden_input()), slurp(kGolden + "/expected.calibration.cache"));
}

TEST(FormatsGolden, AimetEncodingsMatchLegacyExport) {
  EXPECT_EQ(write_aimet_encodings_string(golden_input()), slurp(kGolden + "/expected.aimet.encodings"));
}

TEST(FormatsGolden, AimetEncodings100MatchExport) {
  EXPECT_EQ(write_aimet_encodings_string(golden_input(), "1.0.0"), slurp(kGolden + "/expected.aimet_1.0.0.encodings"));
  EXPECT_EQ(read_aimet_encodings(kGolden + "/expected.aimet_1.0.0.encodings"),
            read_qkern_json(kGolden + "/expected_read_aimet_1.0.0.qkern.json"));
  expect_invalid_argument([] { write_aimet_encodings_string(golden_input(), "2.0.0"); }, {"version", "2.0.0"});
}

TEST(FormatsGolden, ReadersGiveTheFormatsSemantics) {
  EXPECT_EQ(read_trt_cache(kGolden + "/expected.trt.cache"),
            read_qkern_json(kGolden + "/expected_read_trt.qkern.json"));
  EXPECT_EQ(read_ort_table(kGolden + "/expected.calibration.json"),
            read_qkern_json(kGolden + "/expected_read_ort_table.qkern.json"));
  EXPECT_EQ(read_ort_cache(kGolden + "/expected.calibration.cache"),
            read_qkern_json(kGolden + "/expected_read_ort_cache.qkern.json"));
  EXPECT_EQ(read_aimet_encodings(kGolden + "/expected.aimet.encodings"),
            read_qkern_json(kGolden + "/expected_read_aimet.qkern.json"));
}

TEST(FormatsGolden, InputIsTheEmbeddedDumpCalibration) {
  const CalibrationSet s = golden_input();
  ASSERT_EQ(s.layers.size(), 8u);
  EXPECT_EQ(s.layers[0].name, "input");
  EXPECT_EQ(s.layers[4].name, "Schicht/\xC3\xA4\"q\"");
  EXPECT_EQ(s.layers[6].kind, "weight");
  EXPECT_EQ(s.layers[6].axis, 0);
  EXPECT_EQ(s.layers[6].scales.size(), 8u);   // conv1: 8 output channels
  EXPECT_EQ(s.layers[7].scales.size(), 16u);  // conv2: 16
  EXPECT_EQ(s.layers[0].finite, 128u * 64u);  // 128 calibration images of 8x8
}

// The ORT table's ranges are exactly the float32 values the golden QDQ model (python3-onnx) was built
// from: ONNX Runtime's compute_scale_zp (main, 2026: float32 range difference, float64 division, zero
// point from the float64 scale, scale cast to float32) on what read_ort_table returns reproduces the
// model's scale / zero point bit for bit, and so does qkern::Convention::onnxruntime
// (core/choose_params.hpp), which follows the same arithmetic.
TEST(FormatsGolden, OrtTableRangesGiveTheQdqModelParameters) {
  const CalibrationSet s = read_ort_table(kGolden + "/expected.calibration.json");
  std::ifstream in(kGolden + "/qdq_expected.txt");
  std::string line;
  std::getline(in, line);  // header
  int rows = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name, scale_hex;
    int zp = 0;
    ls >> name >> scale_hex >> zp;
    const LayerCalibration* l = nullptr;
    for (const auto& x : s.layers)
      if ("\"" + x.name + "\"" == name ||
          (name.find("\\u") != std::string::npos && x.name.find('/') != std::string::npos))
        l = &x;
    ASSERT_NE(l, nullptr) << name;
    const std::uint32_t want = static_cast<std::uint32_t>(std::stoul(scale_hex, nullptr, 16));
    // compute_scale_zp, uint8, asymmetric
    const float rmin = std::fmin(static_cast<float>(l->range_min[0]), 0.0f);
    const float rmax = std::fmax(static_cast<float>(l->range_max[0]), 0.0f);
    const double scale64 = static_cast<double>(rmax - rmin) / 255.0;
    const float scale = static_cast<float>(scale64);
    const double zp64 = std::nearbyint(0.0 - static_cast<double>(rmin) / scale64);
    EXPECT_EQ(float_bits(scale), want) << name;
    EXPECT_EQ(static_cast<int>(zp64), zp) << name;
    // qkern's onnxruntime convention: the same scale and zero point
    qkern::RangeOptions o;
    o.scheme = qkern::Scheme::affine;
    const qkern::QuantParams p =
        qkern::choose_params(l->range_min[0], l->range_max[0], qkern::DType::uint8, o, qkern::Convention::onnxruntime);
    EXPECT_EQ(float_bits(p.scale), want) << name;
    EXPECT_EQ(p.zero_point, zp) << name;
    ++rows;
  }
  EXPECT_EQ(rows, 6);
}

// ---- round trips -------------------------------------------------------------------------------

TEST(FormatsRoundTrip, QkernJsonIsLossless) {
  CalibrationSet s = golden_input();
  LayerCalibration odd = sym_layer("odd \xE2\x82\xAC\xF0\x9F\x98\x80 \"x\"\\\t", 3.0);
  odd.observed_min = {-std::numeric_limits<double>::infinity()};
  odd.observed_max = {std::numeric_limits<double>::quiet_NaN()};
  odd.scales = {std::numeric_limits<double>::denorm_min() * 3.0e300 * 1.0e8};
  odd.range_min = {-0.0};
  odd.range_max = {0.1 + 0.2};
  odd.finite = std::numeric_limits<std::uint64_t>::max();
  odd.nan = 1ull << 63;
  odd.summary = {{"p99", 1e-310}, {"sqnr", std::numeric_limits<double>::infinity()}, {"x", -1.5e300}};
  odd.kind = "activation";
  s.layers.push_back(odd);
  LayerCalibration empty = sym_layer("unfitted", 1.0);
  empty.scales.clear();
  empty.zero_points.clear();
  empty.range_min.clear();
  empty.range_max.clear();
  empty.observed_min.clear();
  empty.observed_max.clear();
  s.layers.push_back(empty);
  s.meta["unicode \xC3\xA9"] = "line\nbreak";
  const std::string text = write_qkern_json_string(s);
  const CalibrationSet back = read_qkern_json_string(text, "mem");
  EXPECT_EQ(back, s);
  EXPECT_EQ(write_qkern_json_string(back), text);
  // through a file too
  const std::string path = temp_path("roundtrip.qkern.json");
  write_qkern_json(path, s);
  EXPECT_EQ(read_qkern_json(path), s);
  std::remove(path.c_str());
}

TEST(FormatsRoundTrip, TrtCacheKeepsFloat32Scales) {
  const CalibrationSet s = golden_input();
  const std::string text = write_trt_cache_string(s, "TRT-101401-EntropyCalibration2");
  const CalibrationSet back = read_trt_cache_string(text, "mem");
  EXPECT_EQ(back.meta.at("trt_header"), "TRT-101401-EntropyCalibration2");
  ASSERT_EQ(back.layers.size(), 6u);  // the two weights are not part of a calibration cache
  for (const LayerCalibration& l : back.layers) {
    const LayerCalibration* src = nullptr;
    for (const auto& x : s.layers)
      if (x.name == l.name) src = &x;
    ASSERT_NE(src, nullptr);
    const double amax = std::fmax(std::fabs(src->range_min[0]), std::fabs(src->range_max[0]));
    EXPECT_EQ(static_cast<float>(l.scales[0]), static_cast<float>(amax) / 127.0f) << l.name;
    EXPECT_EQ(l.range_max[0], 127.0 * l.scales[0]);
    EXPECT_EQ(l.qmin, -127);
  }
  EXPECT_EQ(write_trt_cache_string(back, "TRT-101401-EntropyCalibration2"), text);  // fixpoint
}

TEST(FormatsRoundTrip, OrtTableAndCacheAreFixpoints) {
  const CalibrationSet s = golden_input();
  const std::string table = write_ort_table_string(s);
  const CalibrationSet back = read_ort_table_string(table, "mem");
  ASSERT_EQ(back.layers.size(), 6u);
  EXPECT_EQ(back.layers[0].name, "input");  // file order kept
  EXPECT_EQ(back.layers[3].name, "onnx::Conv_329");
  for (std::size_t i = 0; i < back.layers.size(); ++i) {
    EXPECT_EQ(back.layers[i].range_min[0], static_cast<double>(static_cast<float>(s.layers[i].range_min[0])));
    EXPECT_EQ(back.layers[i].range_max[0], static_cast<double>(static_cast<float>(s.layers[i].range_max[0])));
  }
  EXPECT_EQ(write_ort_table_string(back), table);
  const std::string cache = write_ort_cache_string(s);
  EXPECT_EQ(write_ort_cache_string(read_ort_cache_string(cache, "mem")), cache);
}

TEST(FormatsRoundTrip, OrtTablePerChannelAndMethods) {
  CalibrationSet s;
  LayerCalibration l = sym_layer("act", 2.0);
  l.axis = 1;
  l.method = "entropy";
  l.scales = {1.0 / 127, 2.0 / 127, 0.5 / 127};
  l.zero_points = {0, 0, 0};
  l.range_min = {-1.0, -2.0, -0.5};
  l.range_max = {1.0, 2.0, 0.5};
  l.observed_min = l.range_min;
  l.observed_max = l.range_max;
  s.layers.push_back(l);
  const std::string table = write_ort_table_string(s);
  EXPECT_NE(table.find("\"data\": [-1.0, -2.0, -0.5]"), std::string::npos) << table;
  EXPECT_NE(table.find("CalibrationMethod.Entropy"), std::string::npos);
  const CalibrationSet back = read_ort_table_string(table, "mem");
  EXPECT_EQ(back.layers[0].axis, 1);
  EXPECT_EQ(back.layers[0].method, "entropy");
  EXPECT_EQ(back.layers[0].scheme, "symmetric");
  EXPECT_EQ(back.layers[0].range_max, l.range_max);
  expect_invalid_argument([&] { write_ort_cache_string(s); }, {"layer 'act'", "per channel"});
}

TEST(FormatsRoundTrip, AimetEncodingsKeepGridsAndKinds) {
  const CalibrationSet s = golden_input();
  const std::string text = write_aimet_encodings_string(s);
  const CalibrationSet back = read_aimet_encodings_string(text, "mem");
  ASSERT_EQ(back.layers.size(), s.layers.size());
  for (const LayerCalibration& l : back.layers) {
    const LayerCalibration* src = nullptr;
    for (const auto& x : s.layers)
      if (x.name == l.name) src = &x;
    ASSERT_NE(src, nullptr) << l.name;
    EXPECT_EQ(l.kind, src->kind == "weight" ? "weight" : "activation");
    EXPECT_EQ(l.axis, src->axis) << l.name;
    EXPECT_EQ(l.scheme, src->scheme);
    EXPECT_EQ(qkern::bit_width(l.dtype), qkern::bit_width(src->dtype));
    ASSERT_EQ(l.scales.size(), src->scales.size());
    for (std::size_t c = 0; c < l.scales.size(); ++c) {
      EXPECT_EQ(l.scales[c], static_cast<double>(static_cast<float>(src->scales[c])));
      // same real value for code 0 of the signed type: the grid is kept even where the dtype is not
      const double zero_src = -static_cast<double>(src->zero_points[c]) + qkern::full_range(src->dtype).qmin;
      const double zero_back = -static_cast<double>(l.zero_points[c]) + qkern::full_range(l.dtype).qmin;
      EXPECT_EQ(zero_src, zero_back) << l.name;
    }
  }
  EXPECT_EQ(write_aimet_encodings_string(back), text);  // fixpoint
  const std::string v1 = write_aimet_encodings_string(s, "1.0.0");
  const CalibrationSet back1 = read_aimet_encodings_string(v1, "mem1");
  EXPECT_EQ(write_aimet_encodings_string(back1, "1.0.0"), v1);
  for (std::size_t i = 0; i < back1.layers.size(); ++i) {  // same grids as 0.6.1
    const LayerCalibration* l0 = nullptr;
    for (const auto& x : back.layers)
      if (x.name == back1.layers[i].name) l0 = &x;
    ASSERT_NE(l0, nullptr);
    EXPECT_EQ(back1.layers[i].scales, l0->scales);
    EXPECT_EQ(back1.layers[i].zero_points, l0->zero_points);
    EXPECT_EQ(back1.layers[i].dtype, l0->dtype);
    EXPECT_EQ(back1.layers[i].axis, l0->axis);
  }
}

// ---- real-world variants -----------------------------------------------------------------------

TEST(FormatsVariants, TrtCacheFromTheWild) {
  // NVIDIA/TensorRT#2958: "onnx::Conv_329: 3c96d93c" is scale 0.0184141 (amax ~2.3386); CRLF line
  // endings, a tensor name with ':' and a bare 0 (TensorRT's "uniformly zero" tensor).
  const std::string text =
      "TRT-8205-EntropyCalibration2\r\nonnx::Conv_329: 3c96d93c\r\ndata_0:3c010204\r\nzeros: 0\r\n\r\n";
  const CalibrationSet s = read_trt_cache_string(text, "wild.cache");
  ASSERT_EQ(s.layers.size(), 3u);
  EXPECT_EQ(s.layers[0].name, "onnx::Conv_329");
  EXPECT_EQ(static_cast<float>(s.layers[0].scales[0]), bits_float(0x3c96d93c));
  EXPECT_NEAR(s.layers[0].range_max[0], 2.3386, 1e-4);
  EXPECT_EQ(s.layers[0].method, "entropy");
  EXPECT_EQ(static_cast<float>(s.layers[1].scales[0]), 1.0f / 127.0f);  // 3c010204 = 1/127
  EXPECT_TRUE(s.layers[2].scales.empty());
  EXPECT_EQ(s.layers[2].range_max[0], 0.0);
  const CalibrationSet mm = read_trt_cache_string("TRT-8601-MinMaxCalibration\nx: 3f800000\n", "mm");
  EXPECT_EQ(mm.layers[0].method, "minmax");
  EXPECT_EQ(mm.layers[0].range_max[0], 127.0);
}

TEST(FormatsVariants, OrtTableOlderAndPlainForms) {
  // before ONNX Runtime 1.17: {name: [lowest, highest]}; file order kept (not sorted), a tensor may be
  // called "data"
  CalibrationSet s = read_ort_table_string("{\"z\": [-1.5, 2.0], \"data\": [0, 3], \"a\": [-1, 1]}", "old.json");
  ASSERT_EQ(s.layers.size(), 3u);
  EXPECT_EQ(s.layers[0].name, "z");
  EXPECT_EQ(s.layers[1].name, "data");
  EXPECT_EQ(s.layers[2].name, "a");
  EXPECT_EQ(s.layers[0].range_min[0], -1.5);
  EXPECT_EQ(s.layers[1].range_max[0], 3.0);
  EXPECT_EQ(s.layers[0].method, "unknown");
  expect_data_error([] { read_ort_table_string("{\"t\": {\"lowest\": 1, \"highest\": 2, \"lowest\": 0}}", "d.json"); },
                    {"d.json", "duplicate key \"lowest\""});
  // a plain {name: TensorData} with numpy scalars (0-d arrays) and histogram fields
  s = read_ort_table_string(
      "{\"t\": {\"lowest\": {\"data\": -0.5, \"dtype\": \"float32\", \"CLS\": \"numpy.array\"}, \"highest\": "
      "{\"data\": 0.5, \"dtype\": \"float32\", \"CLS\": \"numpy.array\"}, \"hist\": {\"data\": [1, 2], \"dtype\": "
      "\"int64\", \"CLS\": \"numpy.array\"}, \"CLS\": \"TensorData\"}}",
      "plain.json");
  ASSERT_EQ(s.layers.size(), 1u);
  EXPECT_EQ(s.layers[0].scheme, "symmetric");
  EXPECT_EQ(s.layers[0].dtype, qkern::DType::int8);
}

TEST(FormatsVariants, AimetLegacyFromAimet1x) {
  // AIMET 1.x (libpymo encodings): offset as a float, no dtype key, no version, per-channel param.
  const std::string text = R"({
    "activation_encodings": {"act": [{"bitwidth": 8, "is_symmetric": "False", "max": 2.0, "min": -0.5,
                                      "offset": -51.0, "scale": 0.00980392}]},
    "param_encodings": {"w": [{"bitwidth": 8, "is_symmetric": "True", "max": 0.127, "min": -0.128,
                               "offset": -128.0, "scale": 0.001},
                              {"bitwidth": 8, "is_symmetric": "True", "max": 0.254, "min": -0.256,
                               "offset": -128, "scale": 0.002}]}})";
  const CalibrationSet s = read_aimet_encodings_string(text, "aimet1.encodings");
  ASSERT_EQ(s.layers.size(), 2u);
  EXPECT_EQ(s.layers[0].dtype, qkern::DType::uint8);
  EXPECT_EQ(s.layers[0].zero_points[0], 51);
  EXPECT_EQ(s.layers[1].dtype, qkern::DType::int8);
  EXPECT_EQ(s.layers[1].axis, 0);
  EXPECT_EQ(s.layers[1].zero_points, (std::vector<std::int64_t>{0, 0}));
  EXPECT_EQ(s.layers[1].kind, "weight");
}

// ---- bad input: DataError naming the file and the line / key -----------------------------------

TEST(FormatsBadInput, TrtCache) {
  expect_data_error([] { read_trt_cache_string("", "c.cache"); }, {"c.cache", "empty"});
  expect_data_error([] { read_trt_cache_string("hello\nx: 3f800000\n", "c.cache"); }, {"c.cache", "line 1", "header"});
  expect_data_error([] { read_trt_cache_string("TRT-8601-EntropyCalibration2\nx: zz\n", "c.cache"); },
                    {"c.cache", "line 2", "tensor 'x'", "hex"});
  expect_data_error([] { read_trt_cache_string("TRT-8601-EntropyCalibration2\nx: 3f8000001\n", "c.cache"); },
                    {"line 2", "1 to 8 hex digits"});
  expect_data_error([] { read_trt_cache_string("TRT-8601-E\na: 3f800000\nb: 7fc00000\n", "c.cache"); },
                    {"line 3", "tensor 'b'", "not a finite"});
  expect_data_error([] { read_trt_cache_string("TRT-8601-E\nb: bf800000\n", "c.cache"); }, {"line 2", "non-negative"});
  expect_data_error([] { read_trt_cache_string("TRT-8601-E\na: 3f800000\na: 3f800000\n", "c.cache"); },
                    {"line 3", "tensor 'a' appears twice"});
  expect_data_error([] { read_trt_cache_string("TRT-8601-E\nno colon here\n", "c.cache"); }, {"line 2", "expected"});
  expect_data_error([] { read_trt_cache_string("TRT-8601-E\n: 3f800000\n", "c.cache"); }, {"line 2"});
  expect_data_error([] { read_trt_cache("/nonexistent/dir/x.cache"); }, {"/nonexistent/dir/x.cache", "cannot open"});
  expect_data_error([] { read_trt_cache(kGolden); }, {kGolden.c_str(), "is a directory"});
}

TEST(FormatsBadInput, OrtTable) {
  expect_data_error([] { read_ort_table_string("{\"a\": [1, ", "t.json"); }, {"t.json", "invalid JSON", "line 1"});
  expect_data_error([] { read_ort_table_string("{\"a\": [NaN, 1]}", "t.json"); }, {"t.json", "invalid JSON"});
  expect_data_error([] { read_ort_table_string("{\"a\": [0, 1],\n \"a\": [0, 2]}", "t.json"); },
                    {"t.json", "duplicate key \"a\""});
  expect_data_error([] { read_ort_table_string("{\"a\": [2, 1]}", "t.json"); },
                    {"t.json", "key /a", "lowest 2.0 > highest 1.0"});
  expect_data_error([] { read_ort_table_string("{\"a\": {\"lowest\": 1}}", "t.json"); }, {"key /a/highest", "missing"});
  expect_data_error([] { read_ort_table_string("{\"a\": {\"lowest\": \"x\", \"highest\": 1}}", "t.json"); },
                    {"key /a/lowest", "expected a number"});
  expect_data_error([] { read_ort_table_string("{\"a\": {\"lowest\": [0, 1], \"highest\": [1]}}", "t.json"); },
                    {"key /a", "lowest has 2 values, highest 1"});
  expect_data_error(
      [] {
        read_ort_table_string(
            "{\"CLS\": \"TensorsData\", \"data\": {}, \"calibration_method\": {\"CLS\": "
            "\"CalibrationMethod\", \"value\": \"CalibrationMethod.Magic\"}}",
            "t.json");
      },
      {"key /calibration_method/value", "Magic"});
  expect_data_error([] { read_ort_table_string("{}", "t.json"); }, {"t.json", "no tensors"});
  expect_data_error([] { read_ort_table_string("[1, 2]", "t.json"); }, {"t.json", "expected a JSON object"});
  expect_data_error([] { read_ort_table_string(std::string(100, '[') + std::string(100, ']'), "t.json"); },
                    {"t.json", "nesting deeper"});
  expect_data_error([] { read_ort_cache_string("a 1.5\nb x\n", "c.cache"); }, {"c.cache", "line 2", "tensor 'b'"});
  expect_data_error([] { read_ort_cache_string("a 1.5\na 2\n", "c.cache"); }, {"line 2", "appears twice"});
  expect_data_error([] { read_ort_cache_string("justone\n", "c.cache"); }, {"line 1", "expected"});
}

TEST(FormatsBadInput, AimetEncodings) {
  const auto enc = [](const std::string& entry) {
    return "{\"version\": \"0.6.1\", \"activation_encodings\": {\"t\": [" + entry + "]}, \"param_encodings\": {}}";
  };
  expect_data_error(
      [&] { read_aimet_encodings_string("{\"version\": \"2.0.0\", \"activation_encodings\": []}", "e.json"); },
      {"e.json", "key /version", "2.0.0"});
  expect_data_error([&] { read_aimet_encodings_string("{\"activation_encodings\": []}", "e.json"); },
                    {"key /activation_encodings", "1.0.0 layout"});
  const auto v1 = [](const std::string& entry) {
    return "{\"version\": \"1.0.0\", \"activation_encodings\": [" + entry + "], \"param_encodings\": []}";
  };
  expect_data_error(
      [&] {
        read_aimet_encodings_string(
            v1("{\"name\": \"t\", \"dtype\": \"INT\", \"bw\": 8, \"scale\": [1], \"offset\": [1, 2]}"), "e.json");
      },
      {"key /activation_encodings/0/offset", "as long as the scales"});
  expect_data_error(
      [&] {
        read_aimet_encodings_string(v1("{\"name\": \"t\", \"dtype\": \"INT\", \"bw\": 8, \"enc_type\": \"LPBQ\", "
                                       "\"scale\": [1], \"offset\": [0]}"),
                                    "e.json");
      },
      {"key /activation_encodings/0/enc_type", "LPBQ"});
  expect_data_error(
      [&] { read_aimet_encodings_string(v1("{\"name\": \"t\", \"dtype\": \"FLOAT\", \"bw\": 16}"), "e.json"); },
      {"key /activation_encodings/0/dtype", "FLOAT"});
  expect_data_error(
      [&] {
        read_aimet_encodings_string(v1("{\"dtype\": \"INT\", \"bw\": 8, \"scale\": [1], \"offset\": [0]}"), "e.json");
      },
      {"key /activation_encodings/0/name", "missing"});
  expect_data_error(
      [&] {
        read_aimet_encodings_string(
            v1("{\"name\": \"t\", \"dtype\": \"INT\", \"bw\": 8, \"scale\": [1, 2], \"offset\": [0, 0]}"), "e.json");
      },
      {"key /activation_encodings/0/scale", "PER_TENSOR with 2"});
  expect_data_error(
      [&] {
        read_aimet_encodings_string(
            v1("{\"name\": \"t\", \"dtype\": \"INT\", \"bw\": 8, \"scale\": [1], \"offset\": [9]}"), "e.json");
      },
      {"key /activation_encodings/0/offset/0", "outside"});
  expect_data_error(
      [&] { read_aimet_encodings_string(enc("{\"bitwidth\": 7, \"offset\": 0, \"scale\": 1}"), "e.json"); },
      {"key /activation_encodings/t/0/bitwidth", "bitwidth 7"});
  expect_data_error(
      [&] {
        read_aimet_encodings_string(enc("{\"bitwidth\": 8, \"offset\": 0, \"scale\": 1, \"is_symmetric\": \"yes\"}"),
                                    "e.json");
      },
      {"key /activation_encodings/t/0/is_symmetric", "\"yes\""});
  expect_data_error(
      [&] { read_aimet_encodings_string(enc("{\"bitwidth\": 8, \"offset\": 12, \"scale\": 1}"), "e.json"); },
      {"key /activation_encodings/t/0/offset", "outside"});
  expect_data_error([&] { read_aimet_encodings_string(enc("{\"bitwidth\": 8, \"offset\": 0}"), "e.json"); },
                    {"key /activation_encodings/t/0/scale", "missing"});
  expect_data_error(
      [&] { read_aimet_encodings_string(enc("{\"bitwidth\": 8, \"offset\": 0, \"scale\": 0}"), "e.json"); },
      {"key /activation_encodings/t/0/scale", "> 0"});
  expect_data_error(
      [&] {
        read_aimet_encodings_string(enc("{\"bitwidth\": 16, \"offset\": 0, \"scale\": 1, \"dtype\": \"float\"}"),
                                    "e.json");
      },
      {"key /activation_encodings/t/0/dtype", "float"});
  expect_data_error(
      [&] { read_aimet_encodings_string(enc("{\"bitwidth\": 8, \"offset\": 0.5, \"scale\": 1}"), "e.json"); },
      {"key /activation_encodings/t/0/offset", "integer"});
  expect_data_error(
      [&] {
        read_aimet_encodings_string(
            "{\"activation_encodings\": {\"t\": [{\"bitwidth\": 8, \"offset\": 0, \"scale\": "
            "1}]}, \"param_encodings\": {\"t\": [{\"bitwidth\": 8, \"offset\": 0, \"scale\": 1}]}}",
            "e.json");
      },
      {"key /param_encodings/t", "both"});
  expect_data_error([&] { read_aimet_encodings_string("{\"version\": \"0.6.1\"}", "e.json"); }, {"neither"});
}

TEST(FormatsBadInput, QkernJson) {
  const std::string good = write_qkern_json_string(CalibrationSet{{sym_layer("a", 1.0)}, {}});
  auto mutate = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    const std::size_t p = t.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    return t.replace(p, from.size(), to);
  };
  expect_data_error([&] { read_qkern_json_string(mutate("qkern-calibration", "other"), "q.json"); },
                    {"q.json", "key /format"});
  expect_data_error([&] { read_qkern_json_string(mutate("\"version\": 1", "\"version\": 2"), "q.json"); },
                    {"key /version"});
  expect_data_error([&] { read_qkern_json_string(mutate("\"int8\"", "\"int9\""), "q.json"); },
                    {"key /layers/0/dtype", "int9"});
  expect_data_error([&] { read_qkern_json_string(mutate("\"qmin\": -127", "\"qmin\": 200"), "q.json"); },
                    {"key /layers/0", "layer 'a'", "qmin 200 > qmax 127"});
  expect_data_error(
      [&] { read_qkern_json_string(mutate("\"zero_points\": [0]", "\"zero_points\": [0, 1]"), "q.json"); },
      {"key /layers/0", "differ in length"});
  expect_data_error([&] { read_qkern_json_string(mutate("\"nan\": 0", "\"nan\": -3"), "q.json"); },
                    {"key /layers/0/counts/nan", "non-negative"});
  expect_data_error(
      [&] { read_qkern_json_string(mutate("\"scheme\": \"symmetric\"", "\"scheme\": \"odd\""), "q.json"); },
      {"key /layers/0", "scheme 'odd'"});
  expect_data_error([&] { read_qkern_json_string(mutate("\"range_min\": [", "\"range_min\": [\"x\", "), "q.json"); },
                    {"key /layers/0/range_min/0", "expected a number"});
  expect_data_error([&] { read_qkern_json_string(mutate("\"axis\": -1", "\"axis\": 1e400"), "q.json"); },
                    {"q.json", "invalid JSON"});
}

TEST(FormatsBadInput, WritersRejectWhatTheFormatCannotCarry) {
  LayerCalibration pc = sym_layer("per_channel", 1.0);
  pc.axis = 0;
  pc.scales = {0.1, 0.2};
  pc.zero_points = {0, 0};
  pc.range_min = {-1.0, -2.0};
  pc.range_max = {1.0, 2.0};
  pc.observed_min = pc.range_min;
  pc.observed_max = pc.range_max;
  expect_invalid_argument(
      [&] {
        write_trt_cache_string(CalibrationSet{{pc}, {}});
      },
      {"layer 'per_channel'", "per channel"});
  LayerCalibration zero = sym_layer("zero", 0.0);
  zero.scales = {1.0};
  expect_invalid_argument([&] { write_trt_cache_string(CalibrationSet{{zero}, {}}); }, {"layer 'zero'", "bare 0"});
  expect_invalid_argument(
      [&] {
        write_trt_cache_string(CalibrationSet{{sym_layer("a\nb", 1.0)}, {}});
      },
      {"line break"});
  expect_invalid_argument(
      [&] {
        write_trt_cache_string(CalibrationSet{{sym_layer("a", 1.0)}, {}}, "NOPE");
      },
      {"header"});
  expect_invalid_argument(
      [&] {
        write_trt_cache_string(CalibrationSet{{sym_layer("a", 1.0), sym_layer("a", 2.0)}, {}});
      },
      {"layer 'a'", "duplicate"});
  expect_invalid_argument([&] { write_ort_table_string(CalibrationSet{{sym_layer("bad\xFF", 1.0)}, {}}); }, {"UTF-8"});
  expect_invalid_argument(
      [&] {
        write_ort_cache_string(CalibrationSet{{sym_layer("has space", 1.0)}, {}});
      },
      {"layer 'has space'", "space"});
  LayerCalibration unfitted = sym_layer("u", 1.0);
  unfitted.scales.clear();
  unfitted.zero_points.clear();
  expect_invalid_argument(
      [&] {
        write_aimet_encodings_string(CalibrationSet{{unfitted}, {}});
      },
      {"layer 'u'", "no fitted"});
  LayerCalibration bad = sym_layer("b", 1.0);
  bad.zero_points = {500};
  expect_invalid_argument([&] { write_qkern_json_string(CalibrationSet{{bad}, {}}); }, {"layer 'b'", "zero point 500"});
  expect_data_error([] { write_qkern_json("/nonexistent/dir/out.json", CalibrationSet{}); },
                    {"/nonexistent/dir/out.json", "cannot open"});
}

// ---- fuzz corpora and crash regressions through every parser -----------------------------------

TEST(FormatsFuzzCorpus, EveryCorpusFileParsesOrFailsCleanly) {
  int files = 0;
  for (const char* dir : {"trt_cache", "ort_table", "ort_cache", "aimet_encodings", "qkern_json"}) {
    const std::string d = kCorpus + "/" + dir;
    DIR* dp = ::opendir(d.c_str());
    ASSERT_NE(dp, nullptr) << d;
    while (dirent* e = ::readdir(dp)) {
      if (e->d_name[0] == '.') continue;
      const std::string text = slurp(d + "/" + e->d_name);
      for (auto parse : {read_trt_cache_string, read_ort_table_string, read_ort_cache_string,
                         read_aimet_encodings_string, read_qkern_json_string}) {
        try {
          const CalibrationSet s = parse(text, e->d_name);
          try {  // what was read writes back in its own and the lossless format
            const CalibrationSet again = read_qkern_json_string(write_qkern_json_string(s), "again");
            EXPECT_EQ(again, s) << e->d_name;
          } catch (const qkern::InvalidArgument&) {
          }
        } catch (const qkern::DataError&) {
        }
      }
      ++files;
    }
    ::closedir(dp);
  }
  EXPECT_GT(files, 10);
}
