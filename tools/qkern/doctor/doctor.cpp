// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// doctor/doctor.cpp: loading a dump and running the checklist (docs/doctor.md).
#include "doctor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <thread>

#include "collection.hpp"
#include "qkern/io/tensor_file.hpp"

namespace qkern::tool::doctor {

namespace fs = std::filesystem;
using namespace qkern::analysis;

ChannelLayout Tensor::sample_layout() const {
  if (shape.size() < 2) return {1, 1, per_sample()};
  std::size_t rest = 1;
  for (std::size_t d = 2; d < shape.size(); ++d) rest *= shape[d];
  return {1, shape[1], rest};
}

namespace {

std::uint32_t le32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
std::uint16_t le16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }

Tensor from_view(const io::TensorView& v) {
  Tensor t;
  t.name = v.name;
  t.shape = v.shape;
  t.data = v.to_float32();
  return t;
}

// Fallback for .npz archives of stored (uncompressed) .npy members while the io reader lacks .npz:
// walks the zip central directory and parses each member with TensorFile::parse.
std::vector<Tensor> read_stored_npz(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw DataError(path + ": cannot open");
  std::vector<unsigned char> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (b.size() < 22) throw DataError(path + ": not a zip archive (too short)");
  std::size_t eocd = b.size() - 22;
  while (true) {
    if (le32(&b[eocd]) == 0x06054b50u) break;
    if (eocd == 0 || b.size() - eocd > 22 + 65535) throw DataError(path + ": no zip end-of-central-directory record");
    --eocd;
  }
  const std::size_t entries = le16(&b[eocd + 10]);
  std::size_t p = le32(&b[eocd + 16]);
  std::vector<Tensor> out;
  for (std::size_t e = 0; e < entries; ++e) {
    if (p + 46 > b.size() || le32(&b[p]) != 0x02014b50u) throw DataError(path + ": corrupt zip central directory");
    const std::uint16_t method = le16(&b[p + 10]);
    const std::size_t csize = le32(&b[p + 20]), nlen = le16(&b[p + 28]), xlen = le16(&b[p + 30]),
                      clen = le16(&b[p + 32]), off = le32(&b[p + 42]);
    if (p + 46 + nlen > b.size()) throw DataError(path + ": corrupt zip central directory");
    std::string name(reinterpret_cast<const char*>(&b[p + 46]), nlen);
    p += 46 + nlen + xlen + clen;
    if (method != 0)
      throw DataError(path + ": member '" + name + "' is compressed (only stored members are read here)");
    if (off + 30 > b.size() || le32(&b[off]) != 0x04034b50u) throw DataError(path + ": corrupt zip local header");
    const std::size_t data = off + 30 + le16(&b[off + 26]) + le16(&b[off + 28]);
    if (data + csize > b.size()) throw DataError(path + ": member '" + name + "' runs past the end of the file");
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    io::TensorFile t = io::TensorFile::parse(&b[data], csize, name + ".npy");
    for (const io::TensorView& v : t.tensors()) {
      Tensor x = from_view(v);
      x.name = name;
      out.push_back(std::move(x));
    }
  }
  return out;
}

bool is_tensor_file(const fs::path& p) {
  const std::string e = p.extension().string();
  return e == ".npy" || e == ".npz" || e == ".safetensors";
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

const char* sev(Severity s) { return severity_name(s); }

}  // namespace

std::vector<Tensor> load_file(const std::string& path) {
  std::vector<Tensor> out;
  try {
    io::TensorFile t = io::TensorFile::open(path);
    for (const io::TensorView& v : t.tensors()) out.push_back(from_view(v));
  } catch (const DataError& e) {
    if (fs::path(path).extension() == ".npz" && std::string(e.what()).find("not implemented") != std::string::npos)
      return read_stored_npz(path);
    throw;
  }
  return out;
}

std::vector<Tensor> load_layers(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& ent : fs::directory_iterator(dir, ec))
    if (ent.is_regular_file() && is_tensor_file(ent.path())) files.push_back(ent.path());
  if (ec) throw DataError(dir + ": cannot list the directory: " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<Tensor> layers;
  for (const fs::path& f : files)
    for (Tensor& t : load_file(f.string())) {
      auto it = std::find_if(layers.begin(), layers.end(), [&](const Tensor& l) { return l.name == t.name; });
      if (it == layers.end()) {
        layers.push_back(std::move(t));
        continue;
      }
      if (it->shape.size() != t.shape.size() ||
          !std::equal(it->shape.begin() + 1, it->shape.end(), t.shape.begin() + 1))
        throw DataError(f.string() + ": layer '" + t.name + "' has a per-sample shape other than in the earlier files");
      it->shape[0] += t.shape[0];
      it->data.insert(it->data.end(), t.data.begin(), t.data.end());
    }
  std::stable_sort(layers.begin(), layers.end(),
                   [](const Tensor& a, const Tensor& b) { return graph_order(a.name, b.name); });
  return layers;
}

Inputs discover(Inputs in) {
  auto exists = [](const fs::path& p) { return fs::exists(p); };
  fs::path dump = in.dump;
  if (in.model.empty()) in.model = dump.string();
  const fs::path model = in.model;
  if (in.reference.empty() && exists(model / "ref")) in.reference = (model / "ref").string();
  if (in.bn.empty() && exists(model / "bn.npz")) in.bn = (model / "bn.npz").string();
  if (in.original.empty() && exists(model / "test_logits_float.npy"))
    in.original = (model / "test_logits_float.npy").string();
  if (in.emulated.empty() && exists(dump / "test_logits_float.npy"))
    in.emulated = (dump / "test_logits_float.npy").string();
  if (in.quantized.empty() && exists(dump / "test_logits_int8.npy"))
    in.quantized = (dump / "test_logits_int8.npy").string();
  if (in.labels.empty()) {
    fs::path d = fs::absolute(dump);
    for (int up = 0; up < 4 && !d.empty(); ++up, d = d.parent_path()) {
      if (exists(d / "test" / "labels.npy")) {
        in.labels = (d / "test" / "labels.npy").string();
        break;
      }
      if (d == d.parent_path()) break;
    }
  }
  return in;
}

bool Report::checked(Suspect s) const {
  for (const Diagnosis& d : diagnoses)
    if (d.suspect == s) return true;
  return false;
}

Report run(const Inputs& given, const Options& opt) {
  Report r;
  r.inputs = discover(given);
  const Inputs& in = r.inputs;
  const fs::path calib_dir = fs::exists(fs::path(in.dump) / "calib") ? fs::path(in.dump) / "calib" : fs::path(in.dump);
  const std::vector<InputFile> calib_files = list_dump(calib_dir.string());
  if (calib_files.empty())
    throw DataError(calib_dir.string() + ": no tensor files (.npy, .npz, .safetensors) in the dump");

  // BN parameters first: their input layers get per-channel moments during the collection.
  std::map<std::string, std::pair<std::vector<float>, std::vector<float>>> bn;  // layer -> running mean, var
  if (!in.bn.empty()) {
    std::map<std::string, Tensor> params;
    for (Tensor& t : load_file(in.bn)) params[t.name] = std::move(t);
    for (const auto& kv : params) {
      const std::string& key = kv.first;
      const std::string suffix = ".running_mean";
      if (key.size() <= suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      const std::string prefix = key.substr(0, key.size() - suffix.size());
      auto var = params.find(prefix + ".running_var");
      if (var == params.end()) throw DataError(in.bn + ": '" + prefix + ".running_var' is missing");
      // The BN layer's input: "bnN" reads "convN" (docs/doctor.md).
      std::string input = prefix;
      const std::size_t pos = input.rfind("bn");
      if (pos != std::string::npos) input.replace(pos, 2, "conv");
      bn[input] = {kv.second.data, var->second.data};
    }
  }

  // The streaming collection (collection.hpp): one pass through `qkern collect`'s file loop.
  CollectionOptions co;
  co.threads = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  co.sample_values = opt.sample_values;
  co.max_images = opt.max_images;
  co.images_layer = in.images_layer;
  for (const auto& kv : bn) co.moment_layers.insert(kv.first);
  co.progress = opt.progress;
  Collection col = collect_dump(calib_files, co);
  if (col.layers.empty()) throw DataError(calib_dir.string() + ": no tensors in the dump's files");
  r.collection_seconds = col.seconds;
  r.collection_bytes = col.bytes;
  r.collection_files = col.files;
  r.calibration_samples = col.layers[0].samples();

  // ---- Suspect 1: FP emulation vs the original model.
  std::vector<Tensor> orig_layers, emu_layers;
  std::vector<LayerPair> pairs;
  if (!in.original_layers.empty() && !in.emulated_layers.empty()) {
    orig_layers = load_layers(in.original_layers);
    emu_layers = load_layers(in.emulated_layers);
    for (const Tensor& o : orig_layers)
      for (const Tensor& e : emu_layers)
        if (o.name == e.name) {
          if (o.data.size() != e.data.size())
            throw DataError(in.emulated_layers + ": layer '" + e.name + "' has " + std::to_string(e.data.size()) +
                            " values, the original's " + std::to_string(o.data.size()));
          pairs.push_back({o.name, o.data.data(), e.data.data(), o.data.size()});
        }
    if (pairs.empty()) throw DataError(in.emulated_layers + ": no layer name in common with " + in.original_layers);
  }
  if (!in.original.empty() && !in.emulated.empty()) {
    const Tensor o = load_file(in.original).at(0), e = load_file(in.emulated).at(0);
    if (o.data.size() != e.data.size() || o.samples() != e.samples())
      throw DataError(in.emulated + ": " + std::to_string(e.data.size()) + " values, the original outputs (" +
                      in.original + ") " + std::to_string(o.data.size()));
    r.emulation = check_emulation(o.data.data(), e.data.data(), o.samples(), o.per_sample(), pairs, opt.emulation);
    if (pairs.empty() && fs::equivalent(in.original, in.emulated))
      r.notes.push_back("suspect 1: the original outputs and the emulation outputs are the same file (" + in.original +
                        "); give --emulated to check a separate float emulation");
    r.diagnoses.push_back(r.emulation->diagnosis);
  } else if (!pairs.empty()) {  // the last common layer serves as the outputs
    const LayerPair& last = pairs.back();
    std::size_t samples = 0;
    for (const Tensor& o : orig_layers)
      if (o.name == last.name) samples = o.samples();
    r.emulation =
        check_emulation(last.original, last.emulated, samples, samples ? last.n / samples : 0, pairs, opt.emulation);
    r.diagnoses.push_back(r.emulation->diagnosis);
  } else {
    r.notes.push_back(
        "suspect 1 not checked: needs the original model's and the float emulation's outputs "
        "(--original, --emulated) or per-layer dumps (--original-layers, --emulated-layers)");
  }

  // ---- Suspect 2: calibration set in-domain.
  Collection refs;
  if (!in.reference.empty()) {
    CollectionOptions ro = co;
    ro.moment_layers.clear();
    ro.images_layer.clear();
    ro.progress = nullptr;
    refs = collect_dump(list_dump(in.reference), ro);
  }
  for (const LayerStats& t : col.layers) {
    LayerRow row;
    row.name = t.name;
    row.shape = t.shape;
    auto b = bn.find(t.name);
    if (b != bn.end()) {
      row.bn = "bn" + t.name.substr(t.name.rfind("conv") == std::string::npos ? 0 : t.name.rfind("conv") + 4);
      const ChannelMoments m = t.moments ? *t.moments : ChannelMoments();
      try {
        row.bn_check = check_batchnorm_statistics(t.name, m, b->second.first, b->second.second, opt.domain);
      } catch (const InvalidArgument& e) {
        throw DataError(in.bn + ": layer '" + t.name + "': " + e.what());
      }
      r.diagnoses.push_back(row.bn_check->diagnosis);
    }
    if (const LayerStats* ref = refs.find(t.name)) {
      row.reference = distribution_distance(t.kept.data(), t.kept.size(), ref->kept.data(), ref->kept.size(),
                                            opt.domain.reference_bins);
      r.diagnoses.push_back(check_reference_distance(t.name, t.kept.data(), t.kept.size(), ref->kept.data(),
                                                     ref->kept.size(), opt.domain));
    }
    // Display histogram (of the kept samples, over the exact range) and per-channel ranges (exact).
    const MinMax& mm = t.range;
    row.hist_lo = mm.has_finite() ? mm.min : 0.0;
    row.hist_hi = mm.has_finite() ? mm.max : 0.0;
    row.hist.assign(64, 0);
    const double w = (row.hist_hi - row.hist_lo) / 64.0;
    for (float v : t.kept) {
      if (!std::isfinite(v)) continue;
      std::size_t k = w > 0.0 ? static_cast<std::size_t>((v - row.hist_lo) / w) : 0;
      row.hist[std::min<std::size_t>(k, 63)]++;
    }
    if (t.sampled())
      r.notes.push_back("layer '" + t.name + "': the histogram, reference distance and range check use one sample in " +
                        std::to_string(t.stride) + " (" + std::to_string(t.kept_samples()) + " of " +
                        std::to_string(t.samples()) +
                        ", --sample-mb); its range, channel ranges and BN moments use "
                        "every value");
    for (const MinMax& c : t.channel_ranges) {
      row.channel_min.push_back(c.has_finite() ? c.min : 0.0f);
      row.channel_max.push_back(c.has_finite() ? c.max : 0.0f);
    }
    r.layers.push_back(std::move(row));
  }
  if (!in.bn.empty() && bn.empty()) r.notes.push_back(in.bn + ": no '<bn>.running_mean' tensors");
  if (in.bn.empty()) r.notes.push_back("no BatchNorm statistics (bn.npz): BN-statistics check not run");
  if (in.reference.empty()) r.notes.push_back("no reference set (--reference): reference-distance check not run");

  // Image content checks on the input layer.
  for (const LayerStats& t : col.layers)
    if (t.name == in.images_layer && t.shape.size() == 4 && t.shape[1] <= 4) {
      ImageLayout il{t.shape[1], t.shape[2], t.shape[3], false};
      const std::size_t count = il.size() ? col.images.size() / il.size() : 0;
      r.images = check_images(col.images.data(), count, il, opt.domain);
      for (const Diagnosis& d : r.images->diagnoses) r.diagnoses.push_back(d);
      r.image_channels = t.shape[1];
      r.image_height = t.shape[2];
      r.image_width = t.shape[3];
      r.image_data = std::move(col.images);
      if (count < t.samples())
        r.notes.push_back("image content checks on the first " + std::to_string(count) + " of " +
                          std::to_string(t.samples()) + " images (--max-images)");
      if (r.images->diagnoses.empty()) {
        Diagnosis ok;
        ok.check = "image_content";
        ok.suspect = Suspect::calibration;
        ok.severity = Severity::ok;
        ok.value = r.images->median_correlation;
        ok.threshold = opt.domain.neighbour_correlation_min;
        ok.threshold_name = "DomainCheckOptions::neighbour_correlation_min";
        ok.evidence = std::to_string(count) +
                      " images: no noise-like, single-colour, repeated or outlier images (median neighbour "
                      "correlation " +
                      fmt("%.3g", r.images->median_correlation) + ")";
        r.diagnoses.push_back(ok);
      }
    }

  // ---- Suspect 3: three-way test.
  if (!in.quantized.empty() && !in.labels.empty() && (!in.emulated.empty() || !in.original.empty())) {
    const Tensor ref = load_file(in.emulated.empty() ? in.original : in.emulated).at(0);
    const Tensor q = load_file(in.quantized).at(0), lab = load_file(in.labels).at(0);
    const std::size_t n = ref.samples(), k = ref.per_sample();
    if (q.data.size() != ref.data.size()) throw DataError(in.quantized + ": size differs from the float outputs");
    if (lab.data.size() != n)
      throw DataError(in.labels + ": " + std::to_string(lab.data.size()) + " labels for " + std::to_string(n) +
                      " outputs");
    std::vector<std::vector<float>> ro(n), qo(n);
    std::vector<long> truth(n);
    for (std::size_t i = 0; i < n; ++i) {
      ro[i].assign(ref.data.begin() + static_cast<std::ptrdiff_t>(i * k),
                   ref.data.begin() + static_cast<std::ptrdiff_t>((i + 1) * k));
      qo[i].assign(q.data.begin() + static_cast<std::ptrdiff_t>(i * k),
                   q.data.begin() + static_cast<std::ptrdiff_t>((i + 1) * k));
      truth[i] = static_cast<long>(lab.data[i]);
    }
    ThreeWayOptions two;
    two.metric_name = "top-" + std::to_string(opt.top_k) + " accuracy";
    r.three_way = three_way_statistics(ro, qo, truth, TopKAccuracy{opt.top_k}, two, opt.stats);
    r.diagnoses.push_back(r.three_way->diagnosis());
  } else {
    Diagnosis d;
    d.check = "three_way_statistics";
    d.suspect = Suspect::evaluation;
    d.severity = Severity::failed;
    d.evidence =
        "no three-way test possible: needs the float and quantized outputs on the same samples and the "
        "ground truth (found: quantized '" +
        in.quantized + "', labels '" + in.labels + "')";
    d.action = "score both models against the ground truth with the task metric on many samples";
    r.diagnoses.push_back(d);
  }

  // ---- Suspect 4: wide ranges (layers that are quantized: not the pre-BN ones, folded away).
  for (std::size_t li = 0; li < col.layers.size(); ++li) {
    const LayerStats& t = col.layers[li];
    LayerRow& row = r.layers[li];
    if (!row.bn.empty() || t.kept_samples() < 2) continue;
    const bool is_conv = t.name.find("conv") != std::string::npos;
    const bool no_bn = is_conv && !in.bn.empty() ? false : is_conv;  // a conv with no BN statistics has no BN
    row.range = check_ranges(t.name, t.kept.data(), t.kept_samples(), t.sample_layout(), !no_bn, opt.ranges);
    r.diagnoses.push_back(row.range->diagnosis);
  }
  std::stable_sort(r.diagnoses.begin(), r.diagnoses.end(), [](const Diagnosis& a, const Diagnosis& b) {
    return a.suspect != b.suspect ? a.suspect < b.suspect : a.severity > b.severity;
  });
  r.state = std::move(col.state);
  return r;
}

std::string format_text(const Report& r) {
  std::string s = "qkern doctor " + r.inputs.dump + " (" + std::to_string(r.calibration_samples) +
                  " calibration samples, " + std::to_string(r.layers.size()) + " layers)\n\n";
  for (Suspect su : {Suspect::emulation, Suspect::calibration, Suspect::evaluation, Suspect::ranges}) {
    std::string line = r.checked(su) ? sev(r.verdict(su)) : "n/a";
    std::size_t bad = 0;
    const Diagnosis* worst = nullptr;
    for (const Diagnosis& d : r.diagnoses)
      if (d.suspect == su) {
        if (d.severity != Severity::ok) ++bad;
        if (!worst || d.severity > worst->severity) worst = &d;
      }
    char buf[160];
    std::snprintf(buf, sizeof buf, "%-46s %-8s ", suspect_name(su), line.c_str());
    s += buf;
    if (worst) {
      s += (worst->layer.empty() ? "" : worst->layer + ": ") + worst->evidence;
      if (bad > 1) s += " (+" + std::to_string(bad - 1) + " more)";
    } else {
      s += "not checked";
    }
    s += "\n";
  }
  s += "\nFindings (suspects in order; ok lines omitted):\n";
  for (const Diagnosis& d : r.diagnoses)
    if (d.severity != Severity::ok) s += "  " + describe(d) + "\n";
  for (const std::string& n : r.notes) s += "  note: " + n + "\n";
  if (r.three_way) s += "\n" + r.three_way->table();
  s += "\nPer-layer table (SQNR in dB of int8 fake quantization on held-out calibration samples)\n";
  char buf[400];
  std::snprintf(buf, sizeof buf, "%-8s %-14s %10s %9s %9s %9s %9s %-10s %9s %8s  %s\n", "layer", "shape", "range",
                "bnKL", "refJS", "minmax", "best", "method", "perchan", "spread", "verdict");
  s += buf;
  for (const LayerRow& l : r.layers) {
    std::string shape;
    for (std::size_t d = 1; d < l.shape.size(); ++d) shape += (d > 1 ? "x" : "") + std::to_string(l.shape[d]);
    const std::string range = fmt("%.3g", l.hist_lo) + ".." + fmt("%.3g", l.hist_hi);
    const std::string kl = l.bn_check ? fmt("%.3g", l.bn_check->median_kl) : "-";
    const std::string js = l.reference ? fmt("%.3g", l.reference->js_bits) : "-";
    std::string mm = "-", best = "-", method = l.bn.empty() ? "-" : "(pre-BN)", pc = "-", spread = "-";
    Severity v = Severity::ok;
    if (l.bn_check) v = std::max(v, l.bn_check->diagnosis.severity);
    if (l.range) {
      mm = fmt("%.1f", l.range->minmax_sqnr_db);
      best = fmt("%.1f", l.range->best_sqnr_db);
      method = fit_method_name(l.range->methods[l.range->best].method);
      pc = std::isnan(l.range->per_channel_sqnr_db) ? "-" : fmt("%.1f", l.range->per_channel_sqnr_db);
      spread = fmt("%.3g", l.range->spread.spread);
      v = std::max(v, l.range->diagnosis.severity);
    }
    for (const Diagnosis& d : r.diagnoses)
      if (d.layer == l.name && d.check == "reference_distance") v = std::max(v, d.severity);
    std::snprintf(buf, sizeof buf, "%-8s %-14s %10s %9s %9s %9s %9s %-10s %9s %8s  %s\n", l.name.c_str(), shape.c_str(),
                  range.c_str(), kl.c_str(), js.c_str(), mm.c_str(), best.c_str(), method.c_str(), pc.c_str(),
                  spread.c_str(), sev(v));
    s += buf;
  }
  return s;
}

}  // namespace qkern::tool::doctor
