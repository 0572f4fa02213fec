// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_quantize_streaming.cpp: the streaming-store path of the quantize family (taken only on
// DRAM-sized tensors in normal use) forced on small buffers with simd::streaming_min_bytes = 0,
// every arch, bit for bit against the reference: every output misalignment of a 64-byte line,
// lengths around whole and partial blocks, per-channel NCHW and NHWC (channels up to beyond the
// kernel's on-stack constant copies), sentinel-guarded outputs, in-place fake-quant.
#include "arch_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern_test;

// Forces streaming stores for the lifetime of the object.
struct ForceStreaming {
  std::size_t saved = simd::streaming_min_bytes;
  ForceStreaming() { simd::streaming_min_bytes = 0; }
  ~ForceStreaming() { simd::streaming_min_bytes = saved; }
};

template <class A>
class QuantizeStreaming : public ::testing::Test {};
TYPED_TEST_SUITE(QuantizeStreaming, AllArchs, ArchNames);

std::vector<float> data(std::mt19937& rng, std::size_t n, float spread) {
  auto v = random_floats(rng, n, spread);
  const auto sp = special_floats();
  for (std::size_t i = 0; i < n; i += 37) v[i] = sp[(i / 37) % sp.size()];
  return v;
}

template <class Q, class A>
void check_tensor(DType dtype) {
  ForceStreaming force;
  std::mt19937 rng(7);
  const QRange r = full_range(dtype);
  for (Arithmetic a : {Arithmetic::onnx(), Arithmetic::pytorch(), Arithmetic::tflite()}) {
    const QuantParams p = QuantParams::make(dtype, 0.0173f, is_signed(dtype) ? 3 : r.qmin + 5, a);
    const auto c = kernels::make_constants(p);
    simd::FloatEnvironmentGuard env;
    for (std::size_t n : {64, 127, 128, 200, 256, 333, 512, 700})
      for (std::size_t off = 0; off < 64 / sizeof(Q) + 1; ++off) {
        const auto x = data(rng, n, p.scale * float(r.qmax - r.qmin) * 0.4f);
        GuardedBuffer<Q> got(n, off, Q(0x5A));
        std::vector<Q> want(n + 1);
        reference::quantize(x.data(), want.data(), n, p);
        kernel_for<kernels::f32_quantize<Q>, A>(x.data(), got.data(), n, c);
        ASSERT_TRUE(bitwise_equal(got.data(), want.data(), n, x.data())) << "n " << n << " offset " << off;
        ASSERT_TRUE(got.guards_intact()) << "n " << n << " offset " << off;
        if (off > 16) continue;
        GuardedBuffer<float> deq(n, off, 1.5f);
        std::vector<float> deq_want(n + 1);
        reference::dequantize(want.data(), deq_want.data(), n, p);
        kernel_for<kernels::dequantize_f32<Q>, A>(want.data(), deq.data(), n, c);
        ASSERT_TRUE(bitwise_equal(deq.data(), deq_want.data(), n, want.data())) << "n " << n << " offset " << off;
        ASSERT_TRUE(deq.guards_intact());
        GuardedBuffer<float> fq(n, off, 1.5f);
        std::vector<float> fq_want(n + 1);
        reference::fake_quantize(x.data(), fq_want.data(), n, p);
        kernel_for<kernels::f32_fake_quantize, A>(x.data(), fq.data(), n, c);
        ASSERT_TRUE(bitwise_equal(fq.data(), fq_want.data(), n, x.data())) << "n " << n << " offset " << off;
        ASSERT_TRUE(fq.guards_intact());
        // In place.
        for (std::size_t i = 0; i < n; ++i) fq[i] = x[i];
        kernel_for<kernels::f32_fake_quantize, A>(fq.data(), fq.data(), n, c);
        ASSERT_TRUE(bitwise_equal(fq.data(), fq_want.data(), n, x.data())) << "in place, n " << n;
      }
  }
}

TYPED_TEST(QuantizeStreaming, PerTensorMatchesReference) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  check_tensor<std::int8_t, TypeParam>(DType::int8);
  check_tensor<std::uint8_t, TypeParam>(DType::uint8);
  check_tensor<std::int16_t, TypeParam>(DType::int16);
  check_tensor<std::uint16_t, TypeParam>(DType::uint16);
}

template <class Q, class A>
void check_channels(DType dtype, bool streaming) {
  std::size_t saved = simd::streaming_min_bytes;
  if (streaming) simd::streaming_min_bytes = 0;
  std::mt19937 rng(11);
  const QRange r = full_range(dtype);
  std::vector<ChannelLayout> layouts;
  for (std::size_t c : {1, 5, 8, 40, 64, 255, 300, 1000}) layouts.push_back({9, c, 1});
  for (std::size_t inner : {3, 49, 130, 300}) layouts.push_back({2, 5, inner});
  for (const ChannelLayout& l : layouts)
    for (std::size_t off : {0, 1, 3, 13}) {
      ChannelQuantParams p;
      p.dtype = dtype;
      p.qmin = r.qmin;
      p.qmax = r.qmax;
      p.arithmetic = off % 2 ? Arithmetic::pytorch() : Arithmetic::onnx();
      for (std::size_t c = 0; c < l.channels; ++c) {
        p.scale.push_back(0.01f * float(1 + c % 7));
        p.zero_point.push_back(is_signed(dtype) ? int(c % 5) - 2 : r.qmin + int(c % 9));
      }
      const detail::ChannelConstantsStorage k(p);
      const auto x = data(rng, l.size(), 0.01f * float(r.qmax - r.qmin) * 0.3f);
      simd::FloatEnvironmentGuard env;
      GuardedBuffer<Q> got(l.size(), off, Q(0x5A));
      std::vector<Q> want(l.size() + 1);
      reference::quantize(x.data(), want.data(), l, p);
      kernel_for<kernels::f32_quantize_channels<Q>, A>(x.data(), got.data(), l, k.view);
      const std::string where = std::to_string(l.outer) + "x" + std::to_string(l.channels) + "x" +
                                std::to_string(l.inner) + " offset " + std::to_string(off);
      ASSERT_TRUE(bitwise_equal(got.data(), want.data(), l.size(), x.data())) << where;
      ASSERT_TRUE(got.guards_intact()) << where;
      GuardedBuffer<float> deq(l.size(), off, 1.5f);
      std::vector<float> deq_want(l.size() + 1);
      reference::dequantize(want.data(), deq_want.data(), l, p);
      kernel_for<kernels::dequantize_f32_channels<Q>, A>(want.data(), deq.data(), l, k.view);
      ASSERT_TRUE(bitwise_equal(deq.data(), deq_want.data(), l.size(), want.data())) << where;
      ASSERT_TRUE(deq.guards_intact()) << where;
      GuardedBuffer<float> fq(l.size(), off, 1.5f);
      std::vector<float> fq_want(l.size() + 1);
      reference::fake_quantize(x.data(), fq_want.data(), l, p);
      kernel_for<kernels::f32_fake_quantize_channels, A>(x.data(), fq.data(), l, k.view);
      ASSERT_TRUE(bitwise_equal(fq.data(), fq_want.data(), l.size(), x.data())) << where;
      ASSERT_TRUE(fq.guards_intact()) << where;
    }
  simd::streaming_min_bytes = saved;
}

TYPED_TEST(QuantizeStreaming, PerChannelMatchesReference) {
  QKERN_SKIP_UNLESS_CPU_RUNS(TypeParam);
  for (bool streaming : {false, true}) {
    check_channels<std::int8_t, TypeParam>(DType::int8, streaming);
    check_channels<std::uint8_t, TypeParam>(DType::uint8, streaming);
    check_channels<std::int16_t, TypeParam>(DType::int16, streaming);
    check_channels<std::uint16_t, TypeParam>(DType::uint16, streaming);
  }
}

}  // namespace
