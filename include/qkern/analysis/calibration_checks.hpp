// qkern — SPDX-License-Identifier: Apache-2.0
//
// analysis/calibration_checks.hpp: checks of a calibration set before it is used to fit
// quantization ranges. Each problem found is a Finding: a kind, the sample indices involved and a
// one-line explanation. Checks (thresholds in CalibrationCheckOptions):
//   too_few_samples      fewer distinct samples than options.min_samples (default 100)
//   non_finite_values    samples holding NaN or +-Inf (calibration skips and counts them; they
//                        usually mean broken preprocessing)
//   exact_duplicate      byte-identical samples: a 64-bit content hash, every hash match confirmed
//                        by memcmp (so a hash collision never merges different samples)
//   constant_sample      samples whose finite values are all equal or whose standard deviation is
//                        at most options.constant_relative_std (1e-3) x the set's median sample std;
//                        with options.sample_layout, also single-colour samples (every channel
//                        constant by the same rule)
//   near_duplicate       pairs whose signatures (options.signature_size block means of the sample,
//                        centred and normalised, so brightness and contrast changes do not matter)
//                        have cosine >= options.near_duplicate_cosine (0.998); grouped transitively
//   out_of_distribution  samples whose mean or std is more than options.out_of_distribution_z (6)
//                        robust standard deviations (1.4826 x MAD around the median; the plain
//                        standard deviation when the MAD is 0) from the set's; needs >= 8 samples
// Cost: one SIMD statistics pass over the data, one hash pass, and O(count^2 x signature_size)
// for near duplicates (about 1 s for 5000 samples at the default signature size).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "qkern/analysis/metrics.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/minmax.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace analysis {

enum class FindingKind : std::uint8_t {
  too_few_samples,
  non_finite_values,
  exact_duplicate,
  constant_sample,
  near_duplicate,
  out_of_distribution,
};

inline const char* finding_kind_name(FindingKind k) {
  switch (k) {
    case FindingKind::too_few_samples:
      return "too_few_samples";
    case FindingKind::non_finite_values:
      return "non_finite_values";
    case FindingKind::exact_duplicate:
      return "exact_duplicate";
    case FindingKind::constant_sample:
      return "constant_sample";
    case FindingKind::near_duplicate:
      return "near_duplicate";
    case FindingKind::out_of_distribution:
      return "out_of_distribution";
  }
  return "?";
}

/// One problem: its kind, the samples involved (ascending), and a one-line explanation.
struct Finding {
  FindingKind kind;
  std::vector<std::size_t> samples;
  std::string explanation;
};

struct CalibrationCheckOptions {
  std::size_t min_samples = 100;         ///< fewer distinct samples than this is a finding
  std::size_t signature_size = 128;      ///< block means per near-duplicate signature
  double near_duplicate_cosine = 0.998;  ///< signature cosine at or above which two samples are near duplicates
  double constant_relative_std = 1e-3;   ///< std <= this x median sample std is "constant"
  double out_of_distribution_z =
      6.0;  ///< robust z-score of a sample's mean or std above which it is out of distribution
  /// Layout of ONE sample ({1, C, H*W} for CHW images, {H*W, C, 1} for HWC) to detect single-colour
  /// samples; the default {1, 1, 1} checks each sample as a whole.
  ChannelLayout sample_layout{};
};

/// Statistics of one sample's finite values.
struct SampleStats {
  double mean = 0.0;
  double std = 0.0;
  float min = 0.0f;
  float max = 0.0f;
  ValueCounts counts;
};

/// A 64-bit hash of `bytes` bytes (xxHash64-style rounds over 32-byte stripes; not xxHash64's value).
/// Equal bytes give equal hashes; qkern never trusts a hash match without comparing the bytes.
inline std::uint64_t content_hash(const void* data, std::size_t bytes) {
  constexpr std::uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full, P3 = 0x165667B19E3779F9ull;
  auto rotl = [](std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  auto load = [](const unsigned char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  };
  const unsigned char* p = static_cast<const unsigned char*>(data);
  std::uint64_t a[4] = {P1 + P2, P2, 0, 0 - P1};
  std::size_t i = 0;
  for (; i + 32 <= bytes; i += 32)
    for (int k = 0; k < 4; ++k) a[k] = rotl(a[k] + load(p + i + 8 * k) * P2, 31) * P1;
  std::uint64_t h = rotl(a[0], 1) + rotl(a[1], 7) + rotl(a[2], 12) + rotl(a[3], 18) + bytes;
  for (; i + 8 <= bytes; i += 8) h = rotl(h ^ (rotl(load(p + i) * P2, 31) * P1), 27) * P1 + P3;
  for (; i < bytes; ++i) h = rotl(h ^ (p[i] * P3), 11) * P1;
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

namespace detail {

inline double median_of(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const std::size_t m = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m), v.end());
  const double hi = v[m];
  if (v.size() % 2 == 1) return hi;
  return 0.5 * (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m)) + hi);
}

// Robust centre and scale of v: median and 1.4826 x MAD, or the plain standard deviation when the
// MAD is 0 (more than half the values equal).
inline void robust_location(const std::vector<double>& v, double& centre, double& scale) {
  centre = median_of(v);
  std::vector<double> dev(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) dev[i] = std::fabs(v[i] - centre);
  scale = 1.4826 * median_of(dev);
  if (scale == 0.0 && !v.empty()) {
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double ss = 0.0;
    for (double x : v) ss += qkern::detail::fp_mul(x - mean, x - mean);
    scale = std::sqrt(ss / static_cast<double>(v.size()));
  }
}

inline std::string index_list(const std::vector<std::size_t>& s, std::size_t shown = 8) {
  std::string r;
  for (std::size_t i = 0; i < s.size() && i < shown; ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  if (s.size() > shown) r += ", ... (" + std::to_string(s.size()) + " in all)";
  return r;
}

// Groups of byte-identical samples among those with equal hashes (every match confirmed by memcmp).
inline std::vector<std::vector<std::size_t>> group_exact_duplicates(const float* samples, std::size_t count,
                                                                    std::size_t sample_size,
                                                                    const std::vector<std::uint64_t>& hashes) {
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return hashes[a] != hashes[b] ? hashes[a] < hashes[b] : a < b; });
  std::vector<std::vector<std::size_t>> groups;
  const std::size_t bytes = sample_size * sizeof(float);
  for (std::size_t s = 0; s < count;) {
    std::size_t e = s + 1;
    while (e < count && hashes[order[e]] == hashes[order[s]]) ++e;
    std::vector<std::vector<std::size_t>> run;  // classes within one hash value
    for (std::size_t k = s; k < e; ++k) {
      const std::size_t i = order[k];
      bool placed = false;
      for (auto& cls : run)
        if (std::memcmp(samples + cls[0] * sample_size, samples + i * sample_size, bytes) == 0) {
          cls.push_back(i);
          placed = true;
          break;
        }
      if (!placed) run.push_back({i});
    }
    for (auto& cls : run)
      if (cls.size() > 1) groups.push_back(cls);
    s = e;
  }
  std::sort(groups.begin(), groups.end());
  return groups;
}

struct UnionFind {
  std::vector<std::size_t> parent;
  explicit UnionFind(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), std::size_t(0)); }
  std::size_t find(std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(std::size_t a, std::size_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[a < b ? b : a] = a < b ? a : b;
  }
};

}  // namespace detail

/// Statistics of each sample's finite values (SIMD: one metric-sums pass against zeros gives the
/// sum and sum of squares, one min/max pass the range).
inline std::vector<SampleStats> sample_statistics(const float* samples, std::size_t count, std::size_t sample_size) {
  if (count != 0 && sample_size != 0 && samples == nullptr) qkern::detail::throw_invalid("samples", "is null");
  std::vector<SampleStats> r(count);
  const std::vector<float> zeros(sample_size, 0.0f);
  for (std::size_t i = 0; i < count; ++i) {
    const float* x = samples + i * sample_size;
    const MetricSums s = metric_sums(zeros.data(), x, sample_size);  // e = x - 0
    const MinMax mm = minmax(x, sample_size);
    SampleStats& st = r[i];
    st.counts = s.test;
    if (s.compared != 0) {
      const double n = static_cast<double>(s.compared);
      st.mean = s.sum_err / n;
      st.std = std::sqrt(std::fmax(0.0, s.sum_err_sq / n - qkern::detail::fp_mul(st.mean, st.mean)));
      st.min = mm.min;
      st.max = mm.max;
    }
  }
  return r;
}

/// Runs every check on `count` samples of `sample_size` floats each, stored back to back.
/// Throws InvalidArgument naming "samples" (null with data), "sample_size" (0 with samples),
/// "options.sample_layout" (a layout whose size is not sample_size), or the offending option.
inline std::vector<Finding> check_calibration_set(const float* samples, std::size_t count, std::size_t sample_size,
                                                  const CalibrationCheckOptions& options = {}) {
  using qkern::detail::throw_invalid;
  if (count != 0 && sample_size == 0) throw_invalid("sample_size", "is 0");
  if (count != 0 && samples == nullptr) throw_invalid("samples", "is null");
  if (options.signature_size == 0) throw_invalid("options.signature_size", "is 0");
  if (!(options.near_duplicate_cosine > -1.0 && options.near_duplicate_cosine <= 1.0))
    throw_invalid("options.near_duplicate_cosine", "must lie in (-1, 1]");
  if (!(options.constant_relative_std >= 0.0)) throw_invalid("options.constant_relative_std", "must be >= 0");
  if (!(options.out_of_distribution_z > 0.0)) throw_invalid("options.out_of_distribution_z", "must be > 0");
  const ChannelLayout& layout = options.sample_layout;
  const bool per_channel = layout.channels > 1 || layout.size() != 1;
  if (per_channel && layout.size() != sample_size)
    throw_invalid("options.sample_layout", "describes " + std::to_string(layout.size()) + " values but a sample has " +
                                               std::to_string(sample_size));
  std::vector<Finding> findings;
  char buf[400];

  const std::vector<SampleStats> stats = sample_statistics(samples, count, sample_size);

  // Exact duplicates.
  std::vector<std::uint64_t> hashes(count);
  for (std::size_t i = 0; i < count; ++i)
    hashes[i] = content_hash(samples + i * sample_size, sample_size * sizeof(float));
  const auto dup_groups = detail::group_exact_duplicates(samples, count, sample_size, hashes);
  std::vector<bool> later_copy(count, false);
  std::size_t copies = 0;
  for (const auto& g : dup_groups)
    for (std::size_t k = 1; k < g.size(); ++k) {
      later_copy[g[k]] = true;
      ++copies;
    }

  // Too few (distinct) samples.
  const std::size_t distinct = count - copies;
  if (distinct < options.min_samples) {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < count; ++i)
      if (!later_copy[i]) idx.push_back(i);
    std::snprintf(buf, sizeof buf,
                  "only %zu distinct samples (of %zu) where at least %zu are recommended: ranges and histograms fitted "
                  "on few samples miss the tails seen in deployment",
                  distinct, count, options.min_samples);
    findings.push_back({FindingKind::too_few_samples, idx, buf});
  }

  // Non-finite values.
  {
    std::vector<std::size_t> idx;
    std::uint64_t nan = 0, inf = 0;
    for (std::size_t i = 0; i < count; ++i)
      if (stats[i].counts.skipped() != 0) {
        idx.push_back(i);
        nan += stats[i].counts.nan;
        inf += stats[i].counts.pos_inf + stats[i].counts.neg_inf;
      }
    if (!idx.empty()) {
      std::snprintf(buf, sizeof buf,
                    "%zu samples hold NaN or Inf (%llu NaN, %llu Inf in all): calibration skips them, but they "
                    "usually mean broken preprocessing",
                    idx.size(), static_cast<unsigned long long>(nan), static_cast<unsigned long long>(inf));
      findings.push_back({FindingKind::non_finite_values, idx, buf});
    }
  }

  for (const auto& g : dup_groups) {
    std::snprintf(buf, sizeof buf,
                  "%zu byte-identical samples (%s): each extra copy weights the same input again and adds no "
                  "information",
                  g.size(), detail::index_list(g).c_str());
    findings.push_back({FindingKind::exact_duplicate, g, buf});
  }

  // Constant and single-colour samples.
  std::vector<bool> constant(count, false);
  {
    std::vector<double> stds;
    for (std::size_t i = 0; i < count; ++i)
      if (stats[i].counts.finite != 0) stds.push_back(stats[i].std);
    const double threshold = options.constant_relative_std * detail::median_of(stds);
    std::vector<std::size_t> flat, single_colour;
    const std::vector<float> zeros(per_channel ? sample_size : 0, 0.0f);
    for (std::size_t i = 0; i < count; ++i) {
      const SampleStats& st = stats[i];
      if (st.counts.finite == 0) continue;
      if (st.min == st.max || st.std <= threshold) {
        constant[i] = true;
        flat.push_back(i);
        continue;
      }
      if (!per_channel) continue;
      const float* x = samples + i * sample_size;
      const std::vector<MetricSums> cs = metric_sums(zeros.data(), x, layout);
      const std::vector<MinMax> cm = minmax(x, layout);
      bool all_flat = true;
      for (std::size_t c = 0; c < layout.channels && all_flat; ++c) {
        if (cs[c].compared == 0 || cm[c].min == cm[c].max) continue;
        const double n = static_cast<double>(cs[c].compared), mean = cs[c].sum_err / n;
        all_flat = std::sqrt(std::fmax(0.0, cs[c].sum_err_sq / n - qkern::detail::fp_mul(mean, mean))) <= threshold;
      }
      if (all_flat) {
        constant[i] = true;
        single_colour.push_back(i);
      }
    }
    if (!flat.empty()) {
      std::snprintf(buf, sizeof buf,
                    "%zu constant samples (%s; std <= %.3g): they carry no range information and pile histogram "
                    "mass on one value",
                    flat.size(), detail::index_list(flat).c_str(), threshold);
      findings.push_back({FindingKind::constant_sample, flat, buf});
    }
    if (!single_colour.empty()) {
      std::snprintf(buf, sizeof buf,
                    "%zu single-colour samples (%s; every channel constant): blank or placeholder images, not "
                    "deployment data",
                    single_colour.size(), detail::index_list(single_colour).c_str());
      findings.push_back({FindingKind::constant_sample, single_colour, buf});
    }
  }

  // Near duplicates among the remaining samples: centred, normalised block-mean signatures.
  {
    const std::size_t S = std::min(options.signature_size, sample_size);
    std::vector<std::size_t> eligible;
    std::vector<float> sig;
    for (std::size_t i = 0; i < count; ++i) {
      if (later_copy[i] || constant[i] || stats[i].counts.finite == 0) continue;
      const float* x = samples + i * sample_size;
      std::vector<double> blocks(S, 0.0);
      for (std::size_t b = 0; b < S; ++b) {
        const std::size_t lo = b * sample_size / S, hi = (b + 1) * sample_size / S;
        double sum = 0.0;
        std::size_t n = 0;
        for (std::size_t k = lo; k < hi; ++k)
          if (::qkern::detail::is_finite(x[k])) {
            sum += x[k];
            ++n;
          }
        blocks[b] = n ? sum / static_cast<double>(n) : 0.0;
      }
      const double mean = std::accumulate(blocks.begin(), blocks.end(), 0.0) / static_cast<double>(S);
      double norm = 0.0;
      for (double& v : blocks) {
        v -= mean;
        norm += qkern::detail::fp_mul(v, v);
      }
      norm = std::sqrt(norm);
      if (!(norm > 1e-30)) continue;  // flat at block scale: no shape to compare
      eligible.push_back(i);
      for (double v : blocks) sig.push_back(static_cast<float>(v / norm));
    }
    detail::UnionFind uf(eligible.size());
    for (std::size_t a = 0; a < eligible.size(); ++a) {
      const float* sa = sig.data() + a * S;
      for (std::size_t b = a + 1; b < eligible.size(); ++b) {
        const float* sb = sig.data() + b * S;
        float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        std::size_t k = 0;
        for (; k + 4 <= S; k += 4)
          for (int j = 0; j < 4; ++j) acc[j] += qkern::detail::fp_mul(sa[k + j], sb[k + j]);
        for (; k < S; ++k) acc[0] += qkern::detail::fp_mul(sa[k], sb[k]);
        if ((acc[0] + acc[1]) + (acc[2] + acc[3]) >= options.near_duplicate_cosine) uf.unite(a, b);
      }
    }
    std::vector<std::vector<std::size_t>> groups(eligible.size());
    for (std::size_t a = 0; a < eligible.size(); ++a) groups[uf.find(a)].push_back(eligible[a]);
    for (const auto& g : groups)
      if (g.size() > 1) {
        std::snprintf(buf, sizeof buf,
                      "%zu near-duplicate samples (%s; signature cosine >= %.4g): the set is less diverse than its "
                      "size suggests",
                      g.size(), detail::index_list(g).c_str(), options.near_duplicate_cosine);
        findings.push_back({FindingKind::near_duplicate, g, buf});
      }
  }

  // Out of distribution: robust z-scores of per-sample mean and std.
  {
    std::vector<std::size_t> idx;
    std::vector<double> means, stds;
    for (std::size_t i = 0; i < count; ++i)
      if (stats[i].counts.finite != 0 && !constant[i]) {
        idx.push_back(i);
        means.push_back(stats[i].mean);
        stds.push_back(stats[i].std);
      }
    if (idx.size() >= 8) {
      double cm, sm, cs, ss;
      detail::robust_location(means, cm, sm);
      detail::robust_location(stds, cs, ss);
      for (std::size_t k = 0; k < idx.size(); ++k) {
        const double zm = sm > 0.0 ? std::fabs(means[k] - cm) / sm : 0.0;
        const double zs = ss > 0.0 ? std::fabs(stds[k] - cs) / ss : 0.0;
        if (zm <= options.out_of_distribution_z && zs <= options.out_of_distribution_z) continue;
        std::string what;
        if (zm > options.out_of_distribution_z) {
          std::snprintf(buf, sizeof buf, "mean %.4g is %.1f robust SDs from the set's median mean %.4g", means[k], zm,
                        cm);
          what += buf;
        }
        if (zs > options.out_of_distribution_z) {
          std::snprintf(buf, sizeof buf, "std %.4g is %.1f robust SDs from the set's median std %.4g", stds[k], zs, cs);
          what += (what.empty() ? "" : "; ") + std::string(buf);
        }
        std::snprintf(buf, sizeof buf, "sample %zu: %s: another source, scaling or preprocessing?", idx[k],
                      what.c_str());
        findings.push_back({FindingKind::out_of_distribution, {idx[k]}, buf});
      }
    }
  }
  return findings;
}

/// One line per finding: "<kind>: <explanation>".
inline std::string format_findings(const std::vector<Finding>& findings) {
  std::string s;
  for (const Finding& f : findings) s += std::string(finding_kind_name(f.kind)) + ": " + f.explanation + "\n";
  if (findings.empty()) s = "calibration set: no findings\n";
  return s;
}

}  // namespace analysis
}  // namespace QKERN_ABI_NS
}  // namespace qkern
