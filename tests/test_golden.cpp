// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_golden.cpp: qkern against golden vectors recorded from PyTorch 1.13 (quantize_per_tensor /
// quantize_per_channel / dequantize / fake_quantize_* and the MinMax observers' qparams) and from a
// numpy transcription of ONNX QuantizeLinear, bit for bit. The vectors are committed text files
// written by tests/golden/generate_golden.py (see tests/golden/README.md); no Python is needed here.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "arch_test_util.hpp"
#include "qkern/core/choose_params.hpp"
#include "qkern/minmax.hpp"
#include "qkern/quantize.hpp"
#include "qkern/reference/quantize.hpp"

namespace {

using namespace qkern;

// ---------------------------------------------------------------------------------------------
// The golden file format: "case <name>", then "<key> <tokens...>" lines, then "end"; '#' comments.
// ---------------------------------------------------------------------------------------------

struct GoldenCase {
  std::string file;
  std::string name;
  std::map<std::string, std::vector<std::string>> fields;

  std::string where() const { return file + ": case " + name; }
  bool has(const std::string& key) const { return fields.count(key) != 0; }
  const std::vector<std::string>& tokens(const std::string& key) const {
    const auto it = fields.find(key);
    if (it == fields.end()) throw std::runtime_error(where() + ": missing field '" + key + "'");
    return it->second;
  }
  std::string str(const std::string& key) const { return tokens(key).at(0); }
  std::vector<float> floats(const std::string& key) const {
    std::vector<float> v;
    for (const std::string& t : tokens(key)) {
      if (t.size() != 8) throw std::runtime_error(where() + ": '" + key + "' token '" + t + "' is not 8 hex digits");
      const std::uint32_t bits = static_cast<std::uint32_t>(std::stoul(t, nullptr, 16));
      float f;
      std::memcpy(&f, &bits, 4);
      v.push_back(f);
    }
    return v;
  }
  float scalar(const std::string& key) const { return floats(key).at(0); }
  std::vector<std::int64_t> ints(const std::string& key) const {
    std::vector<std::int64_t> v;
    for (const std::string& t : tokens(key)) v.push_back(std::stoll(t));
    return v;
  }
  std::int32_t int32(const std::string& key) const { return static_cast<std::int32_t>(ints(key).at(0)); }
  std::vector<std::size_t> shape() const {
    std::vector<std::size_t> s;
    for (std::int64_t d : ints("shape")) s.push_back(static_cast<std::size_t>(d));
    return s;
  }
};

std::vector<GoldenCase> load_golden(const std::string& file) {
  const std::string path = std::string(QKERN_SOURCE_DIR) + "/tests/golden/data/" + file;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open golden file " + path);
  std::vector<GoldenCase> cases;
  std::string line;
  bool open = false;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string key;
    ss >> key;
    if (key == "case") {
      if (open) throw std::runtime_error(path + ":" + std::to_string(lineno) + ": 'case' before 'end'");
      cases.push_back({file, "", {}});
      ss >> cases.back().name;
      open = true;
    } else if (key == "end") {
      open = false;
    } else {
      if (!open) throw std::runtime_error(path + ":" + std::to_string(lineno) + ": field outside a case");
      std::vector<std::string>& v = cases.back().fields[key];
      for (std::string t; ss >> t;) v.push_back(t);
    }
  }
  if (open) throw std::runtime_error(path + ": last case has no 'end'");
  if (cases.empty()) throw std::runtime_error(path + ": no cases");
  return cases;
}

std::uint32_t bits_of(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

std::string show(float f) {
  std::ostringstream o;
  o << std::hexfloat << f << " (0x" << std::hex << bits_of(f) << ")";
  return o.str();
}

// Bit-for-bit comparison of float vectors; the message names file, case, field and index.
void expect_bits(const GoldenCase& c, const char* what, const std::vector<float>& x, const std::vector<float>& expected,
                 const std::vector<float>& got) {
  ASSERT_EQ(expected.size(), got.size()) << c.where() << " " << what;
  int reported = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    if (bits_of(expected[i]) != bits_of(got[i]) && reported++ < 5)
      ADD_FAILURE() << c.where() << " " << what << "[" << i << "]: x = " << show(x[i]) << ", expected "
                    << show(expected[i]) << ", got " << show(got[i]);
}

template <class Q>
void expect_codes(const GoldenCase& c, const char* what, const std::vector<float>& x,
                  const std::vector<std::int64_t>& expected, const std::vector<Q>& got) {
  ASSERT_EQ(expected.size(), got.size()) << c.where() << " " << what;
  int reported = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    if (expected[i] != static_cast<std::int64_t>(got[i]) && reported++ < 5)
      ADD_FAILURE() << c.where() << " " << what << "[" << i << "]: x = " << show(x[i]) << ", expected " << expected[i]
                    << ", got " << static_cast<std::int64_t>(got[i]);
}

DType dtype_named(const std::string& n) {
  static const std::map<std::string, DType> m = {
      {"quint8", DType::uint8}, {"qint8", DType::int8},  {"qint32", DType::int32},
      {"uint8", DType::uint8},  {"int8", DType::int8},   {"uint16", DType::uint16},
      {"int16", DType::int16},  {"uint4", DType::uint4}, {"int4", DType::int4}};
  const auto it = m.find(n);
  if (it == m.end()) throw std::runtime_error("unknown dtype " + n);
  return it->second;
}

// The smallest qkern type holding a PyTorch quant_min..quant_max range.
DType dtype_for_range(std::int32_t qmin, std::int32_t qmax) {
  if (qmin >= 0) return qmax <= 15 ? DType::uint4 : qmax <= 255 ? DType::uint8 : DType::uint16;
  return qmin >= -8 && qmax <= 7 ? DType::int4 : qmin >= -128 && qmax <= 127 ? DType::int8 : DType::int16;
}

// Calls f(Q{}) with the storage type of dtype.
template <class F>
void with_storage(DType t, F&& f) {
  switch (t) {
    case DType::int4:
    case DType::int8:
      f(std::int8_t{});
      break;
    case DType::uint4:
    case DType::uint8:
      f(std::uint8_t{});
      break;
    case DType::int16:
      f(std::int16_t{});
      break;
    case DType::uint16:
      f(std::uint16_t{});
      break;
    case DType::int32:
      f(std::int32_t{});
      break;
  }
}

// quantize (public API and the scalar reference), dequantize of the golden codes, and
// fake_quantize (== dequantize(quantize), no int32), all per tensor.
void check_per_tensor(const GoldenCase& c, const QuantParams& p) {
  const std::vector<float> x = c.floats("x");
  const std::vector<std::int64_t> q = c.ints("q");
  const std::vector<float> dq = c.floats("dq");
  ASSERT_EQ(x.size(), q.size()) << c.where();
  with_storage(p.dtype, [&](auto zero) {
    using Q = decltype(zero);
    std::vector<Q> got(x.size());
    quantize(x.data(), got.data(), x.size(), p);
    expect_codes(c, "quantize", x, q, got);
    std::vector<Q> ref(x.size());
    reference::quantize(x.data(), ref.data(), x.size(), p);
    expect_codes(c, "reference::quantize", x, q, ref);

    std::vector<Q> codes(q.begin(), q.end());
    std::vector<float> y(x.size());
    dequantize(codes.data(), y.data(), codes.size(), p);
    expect_bits(c, "dequantize", x, dq, y);
    if (p.dtype != DType::int32) {
      fake_quantize(x.data(), y.data(), x.size(), p);
      expect_bits(c, "fake_quantize", x, dq, y);
    }
  });
}

ChannelQuantParams channel_params(const GoldenCase& c, DType dtype, QRange range, Arithmetic a) {
  ChannelQuantParams p;
  p.scale = c.floats("scales");
  for (std::int64_t z : c.ints("zero_points")) p.zero_point.push_back(static_cast<std::int32_t>(z));
  p.dtype = dtype;
  p.qmin = range.qmin;
  p.qmax = range.qmax;
  p.arithmetic = a;
  return p;
}

// ---------------------------------------------------------------------------------------------
// PyTorch quantize / dequantize / fake_quantize
// ---------------------------------------------------------------------------------------------

TEST(GoldenPyTorch, QuantizePerTensor) {
  const auto cases = load_golden("pytorch_quantize_per_tensor.txt");
  EXPECT_GE(cases.size(), 20u);
  for (const GoldenCase& c : cases) {
    const DType t = dtype_named(c.str("dtype"));
    check_per_tensor(c, QuantParams::make(t, c.scalar("scale"), c.int32("zero_point"), Arithmetic::pytorch()));
  }
}

TEST(GoldenPyTorch, QuantizePerChannel) {
  const auto cases = load_golden("pytorch_quantize_per_channel.txt");
  EXPECT_GE(cases.size(), 9u);
  for (const GoldenCase& c : cases) {
    const DType t = dtype_named(c.str("dtype"));
    const ChannelLayout layout = ChannelLayout::from_shape(c.shape(), c.int32("axis"));
    const ChannelQuantParams p = channel_params(c, t, full_range(t), Arithmetic::pytorch());
    const std::vector<float> x = c.floats("x");
    const std::vector<std::int64_t> q = c.ints("q");
    const std::vector<float> dq = c.floats("dq");
    ASSERT_EQ(x.size(), layout.size()) << c.where();
    with_storage(t, [&](auto zero) {
      using Q = decltype(zero);
      std::vector<Q> got(x.size());
      quantize(x.data(), got.data(), layout, p);
      expect_codes(c, "quantize", x, q, got);
      std::vector<Q> codes(q.begin(), q.end());
      std::vector<float> y(x.size());
      dequantize(codes.data(), y.data(), layout, p);
      expect_bits(c, "dequantize", x, dq, y);
      if (t != DType::int32) {
        fake_quantize(x.data(), y.data(), layout, p);
        expect_bits(c, "fake_quantize", x, dq, y);
      }
    });
  }
}

TEST(GoldenPyTorch, FakeQuantize) {
  const auto cases = load_golden("pytorch_fake_quantize.txt");
  std::size_t per_tensor = 0, per_channel = 0;
  for (const GoldenCase& c : cases) {
    const QRange range{c.int32("qmin"), c.int32("qmax")};
    const DType t = dtype_for_range(range.qmin, range.qmax);
    const std::vector<float> x = c.floats("x");
    const std::vector<float> expected = c.floats("y");
    std::vector<float> y(x.size());
    if (c.has("axis")) {
      ++per_channel;
      const ChannelLayout layout = ChannelLayout::from_shape(c.shape(), c.int32("axis"));
      fake_quantize(x.data(), y.data(), layout, channel_params(c, t, range, Arithmetic::pytorch()));
    } else {
      ++per_tensor;
      fake_quantize(x.data(), y.data(), x.size(),
                    QuantParams::make(t, c.scalar("scale"), c.int32("zero_point"), range, Arithmetic::pytorch()));
    }
    expect_bits(c, "fake_quantize", x, expected, y);
  }
  EXPECT_GE(per_tensor, 20u);
  EXPECT_GE(per_channel, 12u);
}

// ---------------------------------------------------------------------------------------------
// PyTorch observers: qparams from PyTorch's own min_val / max_val, and qkern's min/max of the data
// ---------------------------------------------------------------------------------------------

// -0.0 and +0.0 compare equal in torch.aminmax, so which one PyTorch reports depends on the data
// order; qkern reports a zero extreme as +0.0 (value_stats.hpp). Both are the same range.
float canonical_zero(float f) { return f == 0.0f ? 0.0f : f; }

TEST(GoldenPyTorch, ObserverQParams) {
  const auto cases = load_golden("pytorch_observers.txt");
  std::map<std::string, const GoldenCase*> data;
  for (const GoldenCase& c : cases)
    if (c.name.rfind("data/", 0) == 0) data[c.name.substr(5)] = &c;
  std::map<std::string, int> checked;
  for (const GoldenCase& c : cases) {
    if (c.name.rfind("data/", 0) == 0) continue;
    const std::string observer = c.str("observer");
    const DType t = dtype_named(c.str("dtype"));
    const std::string qscheme = c.str("qscheme");
    RangeOptions o;
    o.scheme = qscheme.find("symmetric") != std::string::npos ? Scheme::symmetric : Scheme::affine;
    o.reduce_range = c.int32("reduce_range") != 0;
    if (c.has("custom_range")) {
      const auto r = c.ints("custom_range");
      o.range = QRange{static_cast<std::int32_t>(r.at(0)), static_cast<std::int32_t>(r.at(1))};
    }
    const auto obs_range = c.ints("observer_qmin_qmax");
    const std::vector<float> mins = c.floats("min_val"), maxs = c.floats("max_val");
    const std::vector<float> scales = c.floats("scale");
    const std::vector<std::int64_t> zps = c.ints("zero_point");
    ASSERT_EQ(mins.size(), scales.size()) << c.where();
    for (std::size_t ch = 0; ch < mins.size(); ++ch) {
      const QuantParams p = choose_params(double(mins[ch]), double(maxs[ch]), t, o, Convention::pytorch);
      EXPECT_EQ(p.qmin, obs_range.at(0)) << c.where() << " qmin";
      EXPECT_EQ(p.qmax, obs_range.at(1)) << c.where() << " qmax";
      EXPECT_EQ(bits_of(p.scale), bits_of(scales[ch]))
          << c.where() << " scale[" << ch << "] for [" << show(mins[ch]) << ", " << show(maxs[ch]) << "]: expected "
          << show(scales[ch]) << ", got " << show(p.scale);
      EXPECT_EQ(p.zero_point, zps[ch]) << c.where() << " zero_point[" << ch << "] for [" << show(mins[ch]) << ", "
                                       << show(maxs[ch]) << "] scale " << show(scales[ch]);
      EXPECT_TRUE(p.arithmetic == Arithmetic::pytorch()) << c.where();
    }
    // Running min/max over the batches (the moving-average update is a later issue's).
    std::vector<const GoldenCase*> batches;
    for (const std::string& b : c.tokens("batches")) {
      ASSERT_TRUE(data.count(b)) << c.where() << ": no data case 'data/" << b << "'";
      batches.push_back(data[b]);
    }
    if (observer == "MinMaxObserver") {
      MinMax mm;
      for (const GoldenCase* b : batches) {
        const std::vector<float> v = b->floats("values");
        mm.merge(minmax(v.data(), v.size()));
      }
      EXPECT_EQ(bits_of(mm.min), bits_of(canonical_zero(mins[0]))) << c.where() << " min_val: got " << show(mm.min);
      EXPECT_EQ(bits_of(mm.max), bits_of(canonical_zero(maxs[0]))) << c.where() << " max_val: got " << show(mm.max);
    } else if (observer == "PerChannelMinMaxObserver") {
      const ChannelLayout layout = ChannelLayout::from_shape(c.shape(), c.int32("ch_axis"));
      ChannelMinMaxAccumulator acc(layout.channels);
      for (const GoldenCase* b : batches) acc.update(b->floats("values").data(), layout);
      ASSERT_EQ(acc.channels(), mins.size()) << c.where();
      for (std::size_t ch = 0; ch < mins.size(); ++ch) {
        EXPECT_EQ(bits_of(acc.min()[ch]), bits_of(canonical_zero(mins[ch])))
            << c.where() << " min_val[" << ch << "]: got " << show(acc.min()[ch]) << ", expected " << show(mins[ch]);
        EXPECT_EQ(bits_of(acc.max()[ch]), bits_of(canonical_zero(maxs[ch])))
            << c.where() << " max_val[" << ch << "]: got " << show(acc.max()[ch]) << ", expected " << show(maxs[ch]);
      }
    }
    ++checked[observer];
  }
  EXPECT_GE(checked["MinMaxObserver"], 100);
  EXPECT_GE(checked["MovingAverageMinMaxObserver"], 10);
  EXPECT_GE(checked["PerChannelMinMaxObserver"], 40);
  EXPECT_GE(checked["MovingAveragePerChannelMinMaxObserver"], 10);
}

// ---------------------------------------------------------------------------------------------
// ONNX QuantizeLinear / DequantizeLinear
// ---------------------------------------------------------------------------------------------

TEST(GoldenOnnx, QuantizeLinear) {
  const auto cases = load_golden("onnx_quantize_linear.txt");
  std::map<std::string, int> per_type;
  for (const GoldenCase& c : cases) {
    const DType t = dtype_named(c.str("dtype"));
    check_per_tensor(c, QuantParams::make(t, c.scalar("scale"), c.int32("zero_point"), Arithmetic::onnx()));
    ++per_type[c.str("dtype")];
  }
  for (const char* t : {"uint8", "int8", "uint16", "int16", "uint4", "int4"}) EXPECT_GE(per_type[t], 4) << t;
}

// The golden data really exercise the reciprocal-vs-divide difference: on these files the other
// convention's arithmetic must give different codes somewhere (otherwise the goldens could not tell
// the conventions apart).
TEST(GoldenConventions, ArithmeticMattersOnTheGoldenData) {
  for (const auto& f : {std::make_pair("pytorch_quantize_per_tensor.txt", Arithmetic::onnx()),
                        std::make_pair("onnx_quantize_linear.txt", Arithmetic::pytorch())}) {
    std::size_t differing = 0;
    for (const GoldenCase& c : load_golden(f.first)) {
      const DType t = dtype_named(c.str("dtype"));
      const QuantParams p = QuantParams::make(t, c.scalar("scale"), c.int32("zero_point"), f.second);
      const std::vector<float> x = c.floats("x");
      const std::vector<std::int64_t> q = c.ints("q");
      for (std::size_t i = 0; i < x.size(); ++i) differing += reference::quantize_value(x[i], p) != q[i];
    }
    EXPECT_GT(differing, 0u) << f.first;
  }
}

}  // namespace
