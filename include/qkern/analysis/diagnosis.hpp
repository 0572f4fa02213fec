// qkern — SPDX-License-Identifier: Apache-2.0
//
// analysis/diagnosis.hpp: the finding type of the accuracy checklist (the "doctor" checks in
// domain_checks.hpp, emulation_checks.hpp, paired_stats.hpp and range_checks.hpp). Every Diagnosis
// names the check, the suspect of the checklist it belongs to, the layer, channels and samples
// involved, the measured value, the threshold it was compared with (by the name of the option
// that sets it), the evidence in one sentence and what to do about it.
//
// The four suspects, in the order an engineer should walk them:
//   1 emulation   the full-precision emulation already disagrees with the original model
//   2 calibration the calibration set is not diverse or not in-domain
//   3 evaluation  the test is not three-way / too small to show the difference
//   4 ranges      wide output ranges (convolutions without BatchNorm) defeat the quantizer
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {
namespace analysis {

enum class Suspect : std::uint8_t { emulation = 1, calibration = 2, evaluation = 3, ranges = 4 };

inline const char* suspect_name(Suspect s) {
  switch (s) {
    case Suspect::emulation:
      return "1. FP emulation matches the original model";
    case Suspect::calibration:
      return "2. calibration set is diverse and in-domain";
    case Suspect::evaluation:
      return "3. three-way test with enough samples";
    case Suspect::ranges:
      return "4. output ranges fit the quantizer";
  }
  return "?";
}

/// ok: measured and within the threshold; suspect: outside a warning threshold, or too little
/// evidence to decide; failed: outside the threshold by the check's own definition of failure.
enum class Severity : std::uint8_t { ok = 0, suspect = 1, failed = 2 };

inline const char* severity_name(Severity s) {
  switch (s) {
    case Severity::ok:
      return "ok";
    case Severity::suspect:
      return "suspect";
    case Severity::failed:
      return "failed";
  }
  return "?";
}

struct Diagnosis {
  std::string check;  ///< e.g. "bn_statistics", "reference_distance", "neighbour_correlation"
  Suspect suspect = Suspect::calibration;
  Severity severity = Severity::suspect;
  std::string layer;                  ///< empty for set-wide findings
  std::vector<std::size_t> channels;  ///< worst channels first (at most a handful listed)
  std::vector<std::size_t> samples;   ///< ascending
  double value = 0.0;                 ///< the measured value compared with the threshold
  double threshold = 0.0;
  std::string threshold_name;  ///< the option that sets the threshold, e.g. "DomainCheckOptions::bn_kl_nats"
  std::string evidence;        ///< one sentence: what was measured
  std::string action;          ///< one sentence: what to do
};

/// "3, 5, 9, ... (12 in all)": the first `shown` indices of a list.
inline std::string list_indices(const std::vector<std::size_t>& s, std::size_t shown = 8) {
  std::string r;
  for (std::size_t i = 0; i < s.size() && i < shown; ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  if (s.size() > shown) r += ", ... (" + std::to_string(s.size()) + " in all)";
  return r;
}

/// One line: "[failed] bn_statistics layer conv1 channels 3, 5: <evidence> (value 12.3 > 0.5
/// threshold DomainCheckOptions::bn_kl_nats) -> <action>".
inline std::string describe(const Diagnosis& d) {
  std::string s = "[" + std::string(severity_name(d.severity)) + "] " + d.check;
  if (!d.layer.empty()) s += " layer " + d.layer;
  if (!d.channels.empty()) s += " channels " + list_indices(d.channels);
  if (!d.samples.empty()) s += " samples " + list_indices(d.samples);
  s += ": " + d.evidence;
  char buf[200];
  if (!d.threshold_name.empty()) {
    std::snprintf(buf, sizeof buf, " (measured %.4g, threshold %.4g = %s)", d.value, d.threshold,
                  d.threshold_name.c_str());
    s += buf;
  }
  if (!d.action.empty()) s += " -> " + d.action;
  return s;
}

/// The worst severity among the diagnoses of one suspect (ok when there are none).
inline Severity verdict(const std::vector<Diagnosis>& ds, Suspect s) {
  Severity v = Severity::ok;
  for (const Diagnosis& d : ds)
    if (d.suspect == s && d.severity > v) v = d.severity;
  return v;
}

}  // namespace analysis
}  // namespace QKERN_ABI_NS
}  // namespace qkern
