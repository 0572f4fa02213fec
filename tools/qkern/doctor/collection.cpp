// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// doctor/collection.cpp: the doctor's streaming collection (collection.hpp, docs/doctor.md).
#include "collection.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "doctor.hpp"
#include "qkern/io/tensor_file.hpp"

namespace qkern::tool::doctor {

namespace fs = std::filesystem;

namespace {

long trailing_number(const std::string& s) {
  std::size_t i = s.size();
  while (i > 0 && std::isdigit(static_cast<unsigned char>(s[i - 1]))) --i;
  return i == s.size() ? 1000000 : std::stol(s.substr(i));
}

std::size_t product(const std::vector<std::size_t>& shape, std::size_t from) {
  std::size_t n = 1;
  for (std::size_t d = from; d < shape.size(); ++d) n *= shape[d];
  return n;
}

// The per-layer plan: sizes known before the data is read.
struct Plan {
  LayerStats stats;  // shape (dimension 0 = all samples), stride, kept storage
  std::size_t per_sample = 0;
  bool moments = false, images = false;
  std::size_t image_keep = 0;
};

void plan_sampling(Plan& p, const CollectionOptions& o) {
  const std::size_t n = p.stats.samples(), S = p.per_sample;
  const std::size_t room = std::max<std::size_t>(2, S ? o.sample_values / S : n);
  p.stats.stride = n <= room ? 1 : (n + room - 1) / room;
  const std::size_t kept = S ? (n + p.stats.stride - 1) / p.stats.stride : 0;
  p.stats.kept.assign(kept * S, 0.0f);
  if (p.images) p.image_keep = std::min(n, o.max_images);
}

std::vector<MinMax> channel_ranges_of(const LayerState& l, const std::vector<std::size_t>& shape) {
  if (shape.size() < 2) return {l.minmax().range()};
  if (!l.per_channel() || l.channel_axis() != 1)
    throw std::logic_error("doctor: layer '" + l.name() + "' collected without channel axis 1");
  return l.channel_minmax().ranges();
}

}  // namespace

bool graph_order(const std::string& a, const std::string& b) {
  const int ia = a == "input" ? 0 : 1, ib = b == "input" ? 0 : 1;
  if (ia != ib) return ia < ib;
  const long na = trailing_number(a), nb = trailing_number(b);
  if (na != nb) return na < nb;
  return a < b;
}

std::size_t LayerStats::per_sample() const { return shape.empty() ? 0 : product(shape, 1); }

ChannelLayout LayerStats::sample_layout() const {
  if (shape.size() < 2) return {1, 1, per_sample()};
  return {1, shape[1], product(shape, 2)};
}

const LayerStats* Collection::find(const std::string& name) const {
  for (const LayerStats& l : layers)
    if (l.name == name) return &l;
  return nullptr;
}

std::vector<InputFile> list_dump(const std::string& dir) {
  std::vector<InputFile> files;
  std::error_code ec;
  for (const auto& ent : fs::directory_iterator(dir, ec)) {
    const std::string e = ent.path().extension().string();
    if (ent.is_regular_file() && (e == ".npy" || e == ".npz" || e == ".safetensors"))
      files.push_back({ent.path().string(), static_cast<std::uint64_t>(ent.file_size())});
  }
  if (ec) throw DataError(dir + ": cannot list the directory: " + ec.message());
  std::sort(files.begin(), files.end(), [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
  return files;
}

Collection collect_dump(const std::vector<InputFile>& files, const CollectionOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  Collection c;
  c.files = files.size();
  for (const InputFile& f : files) c.bytes += f.bytes;

  // Header pass (mapping a file reads its header only): every layer's sample count and each file's
  // global sample offset per layer, so that the kept samples do not depend on the split or threads.
  std::vector<Plan> plans;
  std::map<std::string, std::size_t> index;
  std::vector<std::map<std::string, std::size_t>> offsets(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    const io::TensorFile file = io::TensorFile::open(files[i].path);
    for (const io::TensorView& v : file.tensors()) {
      if (v.shape.empty())
        throw DataError(files[i].path + ": layer '" + v.name + "' is a 0-d tensor: the doctor needs a batch axis");
      auto it = index.find(v.name);
      if (it == index.end()) {
        it = index.emplace(v.name, plans.size()).first;
        Plan p;
        p.stats.name = v.name;
        p.stats.shape = v.shape;
        p.stats.shape[0] = 0;
        p.per_sample = product(v.shape, 1);
        p.moments = options.moment_layers.count(v.name) != 0;
        p.images = v.name == options.images_layer;
        plans.push_back(std::move(p));
      }
      std::vector<std::size_t>& shape = plans[it->second].stats.shape;
      if (shape.size() != v.shape.size() || !std::equal(shape.begin() + 1, shape.end(), v.shape.begin() + 1))
        throw DataError(files[i].path + ": layer '" + v.name +
                        "' has a per-sample shape other than in the earlier files");
      offsets[i][v.name] = shape[0];
      shape[0] += v.shape[0];
    }
  }
  for (Plan& p : plans) plan_sampling(p, options);
  for (const Plan& p : plans)
    if (p.images) c.images.assign(p.image_keep * p.per_sample, 0.0f);

  // One pass through collect's file loop: collect's observers per worker, the doctor's moments per
  // file, merged in file order as soon as every earlier file is done (so the sums do not depend on
  // the threads, and only files finished out of order wait in memory), kept samples written to
  // their global slots (disjoint).
  const unsigned workers = worker_count(options.threads, files.size());
  std::vector<CalibrationState> partial(workers);
  struct FileMoments {
    std::map<std::size_t, analysis::ChannelMoments> layers;  // plan index -> this file's moments
    std::size_t tensors = 0;                                 // tensors consumed (worker of the file only)
    bool done = false;                                       // under merge_mutex
  };
  std::vector<FileMoments> file_moments(files.size());
  std::mutex merge_mutex;
  std::size_t merged = 0;  // files [0, merged) are merged (under merge_mutex)
  auto merge_done_files = [&]() {
    for (; merged < files.size() && file_moments[merged].done; ++merged) {
      for (auto& kv : file_moments[merged].layers) {
        std::optional<analysis::ChannelMoments>& m = plans[kv.first].stats.moments;
        if (m)
          m->merge(kv.second);
        else
          m = std::move(kv.second);
      }
      file_moments[merged].layers.clear();
    }
  };
  auto keep = [&](Plan& p, std::size_t g0, std::size_t n, const float* x) {  // slots of one file: disjoint
    const std::size_t S = p.per_sample, stride = p.stats.stride;
    float* kept = p.stats.kept.data();
    for (std::size_t j = (stride - g0 % stride) % stride; j < n; j += stride)
      std::memcpy(kept + (g0 + j) / stride * S, x + j * S, S * sizeof(float));
    if (p.images && g0 < p.image_keep)
      std::memcpy(c.images.data() + g0 * S, x, std::min(n, p.image_keep - g0) * S * sizeof(float));
  };
  for_each_tensor(files, options.threads, options.progress, [&](unsigned t, std::size_t i, const Batch& b) {
    add_batch(partial[t], b, options.observers);
    const auto pi = index.find(b.name);
    const auto off = offsets[i].find(b.name);
    if (pi == index.end() || off == offsets[i].end() || b.shape.empty())
      throw DataError(files[i].path + ": layer '" + b.name + "' changed while the dump was read");
    Plan& p = plans[pi->second];
    const std::size_t g0 = off->second, n = b.shape[0], S = p.per_sample;
    if (product(b.shape, 1) != S || g0 + n > p.stats.samples())
      throw DataError(files[i].path + ": layer '" + b.name + "' changed while the dump was read");
    if (S != 0 && n != 0) keep(p, g0, n, b.data);
    if (p.moments && S != 0 && n != 0) {
      const ChannelLayout sl = p.stats.sample_layout();
      auto& m = file_moments[i].layers.emplace(pi->second, analysis::ChannelMoments(sl.channels)).first->second;
      m.update(b.data, {n * sl.outer, sl.channels, sl.inner});
    }
    if (++file_moments[i].tensors == offsets[i].size()) {
      std::lock_guard<std::mutex> lock(merge_mutex);
      file_moments[i].done = true;
      merge_done_files();
    }
  });
  for (CalibrationState& s : partial) c.state.merge(s);
  for (FileMoments& f : file_moments) f.done = true;  // files without tensors
  merge_done_files();

  for (Plan& p : plans) {
    const LayerState* l = c.state.find(p.stats.name);
    if (l == nullptr) throw std::logic_error("doctor: layer '" + p.stats.name + "' missing from the state");
    p.stats.range = l->minmax().range();
    p.stats.channel_ranges = channel_ranges_of(*l, p.stats.shape);
    if (p.images) c.image_count = p.stats.samples();
    c.layers.push_back(std::move(p.stats));
  }
  std::stable_sort(c.layers.begin(), c.layers.end(),
                   [](const LayerStats& a, const LayerStats& b) { return graph_order(a.name, b.name); });
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return c;
}

Collection collect_in_memory(const std::vector<Tensor>& layers, const CollectionOptions& options) {
  Collection c;
  for (const Tensor& t : layers) {
    if (t.shape.empty()) throw DataError("layer '" + t.name + "' is a 0-d tensor: the doctor needs a batch axis");
    Plan p;
    p.stats.name = t.name;
    p.stats.shape = t.shape;
    p.per_sample = product(t.shape, 1);
    p.moments = options.moment_layers.count(t.name) != 0;
    p.images = t.name == options.images_layer;
    plan_sampling(p, options);
    LayerStats& l = p.stats;
    const std::size_t S = p.per_sample;
    for (std::size_t s = 0; S && s < t.samples(); s += l.stride)
      std::copy(t.data.begin() + static_cast<std::ptrdiff_t>(s * S),
                t.data.begin() + static_cast<std::ptrdiff_t>((s + 1) * S),
                l.kept.begin() + static_cast<std::ptrdiff_t>(s / l.stride * S));
    const ChannelLayout sl = l.sample_layout();
    const ChannelLayout whole{t.samples() * sl.outer, sl.channels, sl.inner};
    if (p.moments) {
      l.moments.emplace(sl.channels);
      l.moments->update(t.data.data(), whole);
    }
    l.range = minmax(t.data.data(), t.data.size());
    l.channel_ranges = minmax(t.data.data(), whole);
    if (p.images) {
      c.image_count = t.samples();
      c.images.assign(t.data.begin(), t.data.begin() + static_cast<std::ptrdiff_t>(p.image_keep * S));
    }
    c.layers.push_back(std::move(l));
  }
  std::stable_sort(c.layers.begin(), c.layers.end(),
                   [](const LayerStats& a, const LayerStats& b) { return graph_order(a.name, b.name); });
  return c;
}

}  // namespace qkern::tool::doctor
