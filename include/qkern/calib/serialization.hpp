// qkern — SPDX-License-Identifier: Apache-2.0
//
// calib/serialization.hpp: the binary envelope of every serialized statistic: explicit little-endian
// fields (never a memcpy of a struct), a magic number, a format version, a kind code, and an FNV-1a
// 64-bit checksum of everything before it, so truncated, corrupted or unknown-version input is
// rejected with a DataError naming the problem (fault catalogue HS-10).
//
// Layout: "QKST" | u16 version | u16 kind | u64 payload size | payload | u64 fnv1a(all previous bytes)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// What a serialized blob holds (its kind code).
enum class StatisticKind : std::uint16_t {
  minmax = 1,
  moving_average_minmax = 2,
  channel_minmax = 3,
  moving_average_channel_minmax = 4,
  streaming_histogram = 5,
  channel_streaming_histogram = 6,
  fixed_histogram = 7,
};

inline constexpr std::uint16_t kSerializationVersion = 1;

namespace detail {

inline std::uint64_t fnv1a64(const std::uint8_t* p, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/// Appends little-endian fields; finish() writes the envelope.
class BlobWriter {
 public:
  void u8(std::uint8_t v) { payload_.push_back(v); }
  void u16(std::uint16_t v) { le(v, 2); }
  void u32(std::uint32_t v) { le(v, 4); }
  void u64(std::uint64_t v) { le(v, 8); }
  void i64(std::int64_t v) { le(static_cast<std::uint64_t>(v), 8); }
  void f32(float v) {
    std::uint32_t b;
    std::memcpy(&b, &v, 4);
    u32(b);
  }
  std::vector<std::uint8_t> finish(StatisticKind kind) const {
    std::vector<std::uint8_t> out = {'Q', 'K', 'S', 'T'};
    BlobWriter h;
    h.u16(kSerializationVersion);
    h.u16(static_cast<std::uint16_t>(kind));
    h.u64(payload_.size());
    out.insert(out.end(), h.payload_.begin(), h.payload_.end());
    out.insert(out.end(), payload_.begin(), payload_.end());
    BlobWriter t;
    t.u64(fnv1a64(out.data(), out.size()));
    out.insert(out.end(), t.payload_.begin(), t.payload_.end());
    return out;
  }

 private:
  void le(std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) payload_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t> payload_;
};

/// Reads the fields back after checking the envelope; every read is bounds-checked.
class BlobReader {
 public:
  BlobReader(const std::uint8_t* data, std::size_t size, StatisticKind kind) {
    static const char* what = "cannot deserialize statistic: ";
    if (data == nullptr && size != 0) throw_invalid("data", "is null");
    constexpr std::size_t kHeader = 4 + 2 + 2 + 8, kTrailer = 8;
    if (size < kHeader + kTrailer)
      detail::throw_data(std::string(what) + "truncated input (" + std::to_string(size) + " bytes)");
    if (std::memcmp(data, "QKST", 4) != 0)
      detail::throw_data(std::string(what) + "bad magic number (not a qkern statistic)");
    p_ = data + 4;
    end_ = data + size;
    const std::uint16_t version = u16();
    if (version != kSerializationVersion)
      detail::throw_data(std::string(what) + "unknown format version " + std::to_string(version) +
                         " (this build reads " + std::to_string(kSerializationVersion) + ")");
    const std::uint16_t k = u16();
    if (k != static_cast<std::uint16_t>(kind))
      detail::throw_data(std::string(what) + "blob holds statistic kind " + std::to_string(k) + ", expected " +
                         std::to_string(static_cast<unsigned>(kind)));
    const std::uint64_t payload = u64();
    if (payload != size - kHeader - kTrailer)
      detail::throw_data(std::string(what) + "size mismatch: header says " + std::to_string(payload) +
                         " payload bytes, input has " + std::to_string(size - kHeader - kTrailer) + " (truncated?)");
    const std::uint8_t* t = data + size - kTrailer;
    std::uint64_t stored = 0;
    for (int i = 0; i < 8; ++i) stored |= std::uint64_t{t[i]} << (8 * i);
    if (stored != fnv1a64(data, size - kTrailer))
      detail::throw_data(std::string(what) + "checksum mismatch (corrupt input)");
    end_ = t;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(le(1)); }
  /// A flag byte: exactly 0 or 1 (the only encodings serialize() writes).
  bool flag() {
    const std::uint8_t b = u8();
    if (b > 1) corrupt("flag byte " + std::to_string(b) + " (only 0 and 1 are valid)");
    return b == 1;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(le(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(le(4)); }
  std::uint64_t u64() { return le(8); }
  std::int64_t i64() { return static_cast<std::int64_t>(le(8)); }
  float f32() {
    const std::uint32_t b = u32();
    float v;
    std::memcpy(&v, &b, 4);
    return v;
  }
  /// Throws unless exactly `bytes` remain (used before reading arrays whose size a field gave).
  void expect_remaining(std::uint64_t bytes) const {
    if (bytes != static_cast<std::uint64_t>(end_ - p_))
      detail::throw_data("cannot deserialize statistic: payload size does not match its declared dimensions");
  }
  void expect_end() const { expect_remaining(0); }
  [[noreturn]] static void corrupt(const std::string& why) {
    detail::throw_data("cannot deserialize statistic: inconsistent content (" + why + ")");
  }

 private:
  std::uint64_t le(int bytes) {
    if (end_ - p_ < bytes) detail::throw_data("cannot deserialize statistic: truncated payload");
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= std::uint64_t{p_[i]} << (8 * i);
    p_ += bytes;
    return v;
  }
  const std::uint8_t* p_ = nullptr;
  const std::uint8_t* end_ = nullptr;
};

}  // namespace detail
}  // namespace QKERN_ABI_NS
}  // namespace qkern
