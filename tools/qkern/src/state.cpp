// qkern tool — SPDX-License-Identifier: Apache-2.0
#include "state.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "qkern/version.hpp"

namespace qkern::tool {
namespace {

constexpr char kMagic[8] = {'Q', 'K', 'C', 'A', 'L', 'S', 'T', '\0'};
constexpr std::uint32_t kStateVersion = 1;

// Observer roles in a layer record (written in this order; per-channel ones only with an axis).
enum Role : std::uint16_t {
  kMinMax = 1,
  kHistogram = 2,
  kAbsHistogram = 3,
  kChannelMinMax = 4,
  kChannelHistogram = 5,
  kChannelAbsHistogram = 6
};

std::uint64_t fnv1a(const std::uint8_t* p, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

void put(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_blob(std::vector<std::uint8_t>& out, std::uint16_t role, const std::vector<std::uint8_t>& blob) {
  put(out, role, 2);
  put(out, blob.size(), 8);
  out.insert(out.end(), blob.begin(), blob.end());
}

struct Reader {
  const std::uint8_t*& p;
  const std::uint8_t* end;
  const std::string& where;

  [[noreturn]] void fail(const std::string& why) const { throw DataError(where + ": not a valid qkern state: " + why); }
  std::uint64_t get(int bytes) {
    if (end - p < bytes) fail("truncated");
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= std::uint64_t{p[i]} << (8 * i);
    p += bytes;
    return v;
  }
  std::vector<std::uint8_t> bytes(std::uint64_t n) {
    if (static_cast<std::uint64_t>(end - p) < n) fail("truncated");
    std::vector<std::uint8_t> v(p, p + n);
    p += n;
    return v;
  }
};

template <class T>
std::string shape_string(const std::vector<T>& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Shape as the layer sees it: rank 0 (a scalar) is one row of one element.
std::vector<std::size_t> batch_shape_of(const std::vector<std::size_t>& shape) {
  return shape.empty() ? std::vector<std::size_t>{1} : shape;
}

}  // namespace

LayerState::LayerState(std::string name, const std::vector<std::size_t>& batch_shape, const ObserverOptions& options)
    : name_(std::move(name)),
      bins_(options.bins),
      hist_(options.bins, HistogramValues::signed_values),
      abs_hist_(options.bins, HistogramValues::absolute_values) {
  const std::vector<std::size_t> s = batch_shape_of(batch_shape);
  shape_.assign(s.begin(), s.end());
  shape_[0] = 0;
  if (options.channel_axis) {
    const int rank = static_cast<int>(s.size());
    int a = *options.channel_axis;
    if (a < 0) a += rank;
    if (a >= 1 && a < rank && s[a] > 0) {
      axis_ = a;
      ch_minmax_.emplace(s[a]);
      ch_hist_.emplace(s[a], bins_, HistogramValues::signed_values);
      ch_abs_hist_.emplace(s[a], bins_, HistogramValues::absolute_values);
    }
  }
}

std::uint64_t LayerState::elements() const {
  std::uint64_t n = 1;
  for (std::uint64_t d : shape_) n *= d;
  return n;
}

void LayerState::update(const float* x, const std::vector<std::size_t>& batch_shape) {
  const std::vector<std::size_t> s = batch_shape_of(batch_shape);
  bool same = s.size() == shape_.size();
  for (std::size_t d = 1; same && d < s.size(); ++d) same = s[d] == shape_[d];
  if (!same) {
    std::string want = "[N";
    for (std::size_t d = 1; d < shape_.size(); ++d) want += ", " + std::to_string(shape_[d]);
    throw DataError("layer '" + name_ + "': a batch of shape " + shape_string(s) +
                    " cannot be concatenated along axis 0 with the earlier batches of shape " + want + "]");
  }
  std::size_t n = 1;
  for (std::size_t d : s) n *= d;
  shape_[0] += s[0];
  if (n == 0) return;
  minmax_.update(x, n);
  hist_.update(x, n);
  abs_hist_.update(x, n);
  if (axis_ >= 0) {
    const ChannelLayout l = ChannelLayout::from_shape(s, axis_);
    ch_minmax_->update(x, l);
    ch_hist_->update(x, l);
    ch_abs_hist_->update(x, l);
  }
}

void LayerState::merge(const LayerState& o) {
  bool same = o.shape_.size() == shape_.size() && o.axis_ == axis_ && o.bins_ == bins_;
  for (std::size_t d = 1; same && d < shape_.size(); ++d) same = o.shape_[d] == shape_[d];
  if (!same)
    throw DataError("layer '" + name_ + "': cannot merge shape " + shape_string(o.shape_) + " (channel axis " +
                    std::to_string(o.axis_) + ", " + std::to_string(o.bins_) + " bins) into shape " +
                    shape_string(shape_) + " (channel axis " + std::to_string(axis_) + ", " + std::to_string(bins_) +
                    " bins): only dimension 0 may differ");
  shape_[0] += o.shape_[0];
  minmax_.merge(o.minmax_);
  hist_.merge(o.hist_);
  abs_hist_.merge(o.abs_hist_);
  if (axis_ >= 0) {
    ch_minmax_->merge(*o.ch_minmax_);
    ch_hist_->merge(*o.ch_hist_);
    ch_abs_hist_->merge(*o.ch_abs_hist_);
  }
}

void LayerState::write(std::vector<std::uint8_t>& out) const {
  put(out, name_.size(), 4);
  out.insert(out.end(), name_.begin(), name_.end());
  put(out, shape_.size(), 4);
  for (std::uint64_t d : shape_) put(out, d, 8);
  put(out, static_cast<std::uint32_t>(axis_), 4);
  put(out, bins_, 4);
  put(out, axis_ >= 0 ? 6 : 3, 4);
  put_blob(out, kMinMax, minmax_.serialize());
  put_blob(out, kHistogram, hist_.serialize());
  put_blob(out, kAbsHistogram, abs_hist_.serialize());
  if (axis_ >= 0) {
    put_blob(out, kChannelMinMax, ch_minmax_->serialize());
    put_blob(out, kChannelHistogram, ch_hist_->serialize());
    put_blob(out, kChannelAbsHistogram, ch_abs_hist_->serialize());
  }
}

LayerState LayerState::read(const std::uint8_t*& p, const std::uint8_t* end, const std::string& where) {
  Reader r{p, end, where};
  LayerState s;
  const std::uint64_t name_size = r.get(4);
  if (name_size == 0 || name_size > 65536) r.fail("layer name length " + std::to_string(name_size));
  const std::vector<std::uint8_t> name = r.bytes(name_size);
  s.name_.assign(name.begin(), name.end());
  const std::string layer = "layer '" + s.name_ + "': ";
  const std::uint64_t rank = r.get(4);
  if (rank == 0 || rank > 64) r.fail(layer + "rank " + std::to_string(rank));
  for (std::uint64_t d = 0; d < rank; ++d) s.shape_.push_back(r.get(8));
  s.axis_ = static_cast<std::int32_t>(static_cast<std::uint32_t>(r.get(4)));
  if (s.axis_ < -1 || s.axis_ == 0 || s.axis_ >= static_cast<int>(rank)) r.fail(layer + "channel axis");
  const std::uint64_t bins = r.get(4);
  if (bins < 2 || bins > (1u << 24)) r.fail(layer + "bin count");
  s.bins_ = bins;
  const std::uint64_t count = r.get(4);
  if (count != (s.axis_ >= 0 ? 6u : 3u)) r.fail(layer + "observer count " + std::to_string(count));
  try {
    for (std::uint16_t role = kMinMax; role <= count; ++role) {
      if (r.get(2) != role) r.fail(layer + "observer order");
      const std::vector<std::uint8_t> blob = r.bytes(r.get(8));
      switch (role) {
        case kMinMax:
          s.minmax_ = MinMaxObserver::deserialize(blob);
          break;
        case kHistogram:
          s.hist_ = HistogramObserver::deserialize(blob);
          break;
        case kAbsHistogram:
          s.abs_hist_ = HistogramObserver::deserialize(blob);
          break;
        case kChannelMinMax:
          s.ch_minmax_.emplace(PerChannelMinMaxObserver::deserialize(blob));
          break;
        case kChannelHistogram:
          s.ch_hist_.emplace(PerChannelHistogramObserver::deserialize(blob));
          break;
        case kChannelAbsHistogram:
          s.ch_abs_hist_.emplace(PerChannelHistogramObserver::deserialize(blob));
          break;
      }
    }
  } catch (const DataError& e) {
    if (std::string(e.what()).rfind("qkern: cannot deserialize", 0) != 0) throw;
    r.fail(layer + e.what());
  }
  // Cross-checks: every observer agrees with the header.
  auto bad = [&](const char* why) { r.fail(layer + why); };
  if (s.hist_.histogram().bins() != bins || s.abs_hist_.histogram().bins() != bins) bad("histogram bins");
  if (s.hist_.histogram().values() != HistogramValues::signed_values ||
      s.abs_hist_.histogram().values() != HistogramValues::absolute_values)
    bad("histogram value modes");
  std::uint64_t n = 1;
  for (std::uint64_t d : s.shape_) n = d != 0 && n > ~std::uint64_t{0} / d ? ~std::uint64_t{0} : n * d;
  if (s.minmax_.range().counts.total() != n || s.hist_.histogram().counts().total() != n ||
      s.abs_hist_.histogram().counts().total() != n)
    bad("value counts do not match the shape");
  if (s.axis_ >= 0) {
    const std::uint64_t c = s.shape_[s.axis_];
    if (s.ch_minmax_->channels() != c || s.ch_hist_->channels() != c || s.ch_abs_hist_->channels() != c)
      bad("channel counts do not match the shape");
    if (s.ch_hist_->histogram().bins() != bins || s.ch_abs_hist_->histogram().bins() != bins ||
        s.ch_hist_->histogram().values() != HistogramValues::signed_values ||
        s.ch_abs_hist_->histogram().values() != HistogramValues::absolute_values)
      bad("per-channel histogram bins or value modes");
  }
  return s;
}

bool operator==(const LayerState& a, const LayerState& b) {
  std::vector<std::uint8_t> x, y;
  a.write(x);
  b.write(y);
  return x == y;
}

void CalibrationState::add(LayerState layer) {
  auto it = std::lower_bound(layers.begin(), layers.end(), layer.name(),
                             [](const LayerState& l, const std::string& n) { return l.name() < n; });
  if (it != layers.end() && it->name() == layer.name())
    it->merge(layer);
  else
    layers.insert(it, std::move(layer));
}

void CalibrationState::merge(const CalibrationState& other) {
  for (const LayerState& l : other.layers) add(l);
}

const LayerState* CalibrationState::find(const std::string& name) const {
  auto it = std::lower_bound(layers.begin(), layers.end(), name,
                             [](const LayerState& l, const std::string& n) { return l.name() < n; });
  return it != layers.end() && it->name() == name ? &*it : nullptr;
}

std::vector<std::uint8_t> CalibrationState::serialize() const {
  std::vector<std::uint8_t> out(kMagic, kMagic + 8);
  put(out, kStateVersion, 4);
  const std::string version = QKERN_VERSION_STRING;
  put(out, version.size(), 4);
  out.insert(out.end(), version.begin(), version.end());
  put(out, layers.size(), 4);
  for (const LayerState& l : layers) l.write(out);
  put(out, fnv1a(out.data(), out.size()), 8);
  return out;
}

CalibrationState CalibrationState::deserialize(const std::vector<std::uint8_t>& bytes, const std::string& where) {
  const std::uint8_t* p = bytes.data();
  const std::uint8_t* end = bytes.data() + bytes.size();
  Reader r{p, end, where};
  if (bytes.size() < 8 + 4 + 4 + 4 + 8 || std::memcmp(p, kMagic, 8) != 0)
    r.fail("missing the QKCALST header (is this a file written by `qkern collect`?)");
  p += 8;
  const std::uint64_t version = r.get(4);
  if (version != kStateVersion)
    r.fail("format version " + std::to_string(version) + " (this qkern reads version " + std::to_string(kStateVersion) +
           ")");
  std::uint64_t stored = 0;
  for (int i = 0; i < 8; ++i) stored |= std::uint64_t{end[-8 + i]} << (8 * i);
  if (stored != fnv1a(bytes.data(), bytes.size() - 8)) r.fail("checksum mismatch (corrupt or truncated file)");
  end -= 8;
  r.end = end;
  const std::uint64_t vlen = r.get(4);
  if (vlen > 256) r.fail("version string length");
  r.bytes(vlen);
  const std::uint64_t count = r.get(4);
  CalibrationState s;
  for (std::uint64_t i = 0; i < count; ++i) {
    LayerState l = LayerState::read(p, end, where);
    if (!s.layers.empty() && !(s.layers.back().name() < l.name()))
      r.fail("layers not in strictly increasing name order at '" + l.name() + "'");
    s.layers.push_back(std::move(l));
  }
  if (p != end) r.fail("trailing bytes after the last layer");
  return s;
}

void CalibrationState::save(const std::string& path) const { write_file_bytes(path, serialize()); }

CalibrationState CalibrationState::load(const std::string& path) { return deserialize(read_file_bytes(path), path); }

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw DataError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<std::uint8_t> v((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw DataError(path + ": read error");
  return v;
}

void write_file_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw DataError(path + ": cannot create (" + std::strerror(errno) + ")");
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      throw DataError(path + ": write error");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw DataError(path + ": cannot rename the temporary file (" + std::strerror(errno) + ")");
  }
}

}  // namespace qkern::tool
