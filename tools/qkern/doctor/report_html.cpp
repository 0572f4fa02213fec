// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// doctor/report_html.cpp: the self-contained HTML report of `qkern doctor --report`: inline CSS and
// SVG only (no script, no font, no image file, no network). Per layer: a histogram of the
// calibration values with log counts and every fitting method's clip range marked, a per-channel
// range chart, the layer's noise-table row; the calibration findings with image thumbnails; the
// three-way table with its interval; the verdicts.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "doctor.hpp"

namespace qkern::tool::doctor {

using namespace qkern::analysis;

namespace {

std::string esc(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '<')
      r += "&lt;";
    else if (c == '>')
      r += "&gt;";
    else if (c == '&')
      r += "&amp;";
    else if (c == '"')
      r += "&quot;";
    else
      r += c;
  }
  return r;
}

std::string num(double v, const char* f = "%.4g") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

const char* kMethodColour[] = {"#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"};

// Histogram of one layer, log10(1 + count) bars, clip ranges as vertical lines.
std::string histogram_svg(const LayerRow& l) {
  const double W = 520, H = 160, left = 40, bottom = 20;
  std::string s = "<svg class=\"hist\" data-layer=\"" + esc(l.name) + "\" width=\"" + num(W) + "\" height=\"" +
                  num(H + 30) + "\" viewBox=\"0 0 " + num(W) + " " + num(H + 30) +
                  "\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"><title>" + esc(l.name) +
                  ": histogram of calibration values (log counts)</title>";
  // The x axis spans the observed range and every clip range.
  double lo = l.hist_lo, hi = l.hist_hi;
  if (l.range)
    for (const MethodOutcome& m : l.range->methods) {
      lo = std::min(lo, m.range.min);
      hi = std::max(hi, m.range.max);
    }
  if (!(hi > lo)) hi = lo + 1.0;
  const double pw = W - left - 10, ph = H - bottom;
  auto X = [&](double v) { return left + (v - lo) / (hi - lo) * pw; };
  double top = 0.0;
  for (std::uint64_t c : l.hist) top = std::max(top, std::log10(1.0 + static_cast<double>(c)));
  if (top <= 0.0) top = 1.0;
  const double bw = (l.hist_hi - l.hist_lo) / static_cast<double>(l.hist.size());
  s += "<rect x=\"" + num(left) + "\" y=\"0\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
       "\" fill=\"#fafafa\" stroke=\"#ccc\"/>";
  for (std::size_t i = 0; i < l.hist.size(); ++i) {
    const double h = std::log10(1.0 + static_cast<double>(l.hist[i])) / top * (ph - 5);
    const double x0 = X(l.hist_lo + bw * static_cast<double>(i)), x1 = X(l.hist_lo + bw * static_cast<double>(i + 1));
    s += "<rect class=\"bar\" x=\"" + num(x0, "%.2f") + "\" y=\"" + num(ph - h, "%.2f") + "\" width=\"" +
         num(std::max(0.5, x1 - x0 - 0.3), "%.2f") + "\" height=\"" + num(h, "%.2f") + "\" fill=\"#4a78b5\"><title>[" +
         num(l.hist_lo + bw * static_cast<double>(i)) + ", " + num(l.hist_lo + bw * static_cast<double>(i + 1)) +
         "): " + std::to_string(l.hist[i]) + "</title></rect>";
  }
  if (l.range)
    for (std::size_t k = 0; k < l.range->methods.size(); ++k) {
      const MethodOutcome& m = l.range->methods[k];
      const char* col = kMethodColour[k % 6];
      for (double v : {m.range.min, m.range.max}) {
        if (v == m.range.min && v == 0.0) continue;  // unsigned range: no lower clip
        s += "<line class=\"clip\" x1=\"" + num(X(v), "%.2f") + "\" x2=\"" + num(X(v), "%.2f") + "\" y1=\"0\" y2=\"" +
             num(ph) + "\" stroke=\"" + col + "\" stroke-width=\"1.5\" stroke-dasharray=\"" +
             std::to_string(2 + 2 * k) + ",2\"><title>" + fit_method_name(m.method) + " clip " + num(v) +
             "</title></line>";
      }
      s += "<text x=\"" + num(left + 4 + 100.0 * static_cast<double>(k)) + "\" y=\"" + num(H + 26) +
           "\" font-size=\"11\" fill=\"" + col + "\">" + fit_method_name(m.method) + " " + num(m.range.max, "%.3g") +
           "</text>";
    }
  s += "<text x=\"" + num(left) + "\" y=\"" + num(H + 8) + "\" font-size=\"10\">" + num(lo, "%.3g") +
       "</text><text x=\"" + num(W - 10) + "\" y=\"" + num(H + 8) + "\" font-size=\"10\" text-anchor=\"end\">" +
       num(hi, "%.3g") + "</text><text x=\"2\" y=\"10\" font-size=\"10\">log n</text></svg>";
  return s;
}

// Per-channel [min, max] bars.
std::string channel_svg(const LayerRow& l) {
  const std::size_t C = l.channel_min.size();
  const double W = 360, H = 160, left = 40;
  double lo = 0.0, hi = 0.0;
  for (std::size_t c = 0; c < C; ++c) {
    lo = std::min<double>(lo, l.channel_min[c]);
    hi = std::max<double>(hi, l.channel_max[c]);
  }
  if (!(hi > lo)) hi = lo + 1.0;
  auto Y = [&](double v) { return 5 + (hi - v) / (hi - lo) * (H - 25); };
  std::string s = "<svg class=\"chan\" data-layer=\"" + esc(l.name) + "\" width=\"" + num(W) + "\" height=\"" + num(H) +
                  "\" viewBox=\"0 0 " + num(W) + " " + num(H) +
                  "\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"><title>" + esc(l.name) +
                  ": per-channel range</title>";
  s += "<line x1=\"" + num(left) + "\" x2=\"" + num(W) + "\" y1=\"" + num(Y(0.0), "%.2f") + "\" y2=\"" +
       num(Y(0.0), "%.2f") + "\" stroke=\"#999\"/>";
  const double cw = (W - left - 5) / static_cast<double>(std::max<std::size_t>(C, 1));
  std::vector<std::size_t> wide;
  if (l.range) wide = l.range->spread.wide_channels;
  for (std::size_t c = 0; c < C; ++c) {
    const bool w = std::find(wide.begin(), wide.end(), c) != wide.end();
    s += "<rect class=\"crange\" x=\"" + num(left + cw * static_cast<double>(c) + 1, "%.2f") + "\" y=\"" +
         num(Y(l.channel_max[c]), "%.2f") + "\" width=\"" + num(std::max(1.0, cw - 2), "%.2f") + "\" height=\"" +
         num(std::max(0.5, Y(l.channel_min[c]) - Y(l.channel_max[c])), "%.2f") + "\" fill=\"" +
         (w ? "#d62728" : "#7f9fbf") + "\"><title>channel " + std::to_string(c) + ": [" + num(l.channel_min[c]) + ", " +
         num(l.channel_max[c]) + "]</title></rect>";
  }
  s += "<text x=\"2\" y=\"12\" font-size=\"10\">" + num(hi, "%.3g") + "</text><text x=\"2\" y=\"" + num(H - 20) +
       "\" font-size=\"10\">" + num(lo, "%.3g") + "</text><text x=\"" + num(left) + "\" y=\"" + num(H - 4) +
       "\" font-size=\"10\">channels 0.." + std::to_string(C ? C - 1 : 0) + "</text></svg>";
  return s;
}

// An image as an SVG of grey squares (rescaled to the set's range; at most 32x32 cells).
std::string thumbnail(const Report& r, std::size_t sample, double lo, double hi) {
  const std::size_t H = r.image_height, W = r.image_width, C = r.image_channels, S = C * H * W;
  const std::size_t step = std::max<std::size_t>(1, std::max(H, W) / 32);
  const double px = 48.0 / static_cast<double>(std::max(H, W) / step);
  std::string s =
      "<svg class=\"thumb\" width=\"48\" height=\"48\" viewBox=\"0 0 48 48\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>sample " +
      std::to_string(sample) + "</title>";
  const float* img = r.image_data.data() + sample * S;
  for (std::size_t y = 0; y < H; y += step)
    for (std::size_t x = 0; x < W; x += step) {
      double v = 0.0;
      for (std::size_t c = 0; c < C; ++c) v += img[(c * H + y) * W + x];
      v /= static_cast<double>(C);
      const int g =
          std::isfinite(v) ? static_cast<int>(std::lround(255.0 * std::clamp((v - lo) / (hi - lo), 0.0, 1.0))) : 255;
      char b[160];
      std::snprintf(b, sizeof b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"rgb(%d,%d,%d)\"/>",
                    static_cast<double>(x / step) * px, static_cast<double>(y / step) * px, px + 0.05, px + 0.05, g, g,
                    g);
      s += b;
    }
  return s + "</svg>";
}

const char* sev_class(Severity s) { return severity_name(s); }

}  // namespace

std::string format_html(const Report& r) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>qkern doctor: " + esc(r.inputs.dump) +
      "</title><style>body{font-family:sans-serif;margin:20px;color:#222;max-width:1400px}"
      "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 7px;font-size:13px;"
      "text-align:left;vertical-align:top}th{background:#eee}.ok{background:#e3f4e3}.suspect{background:#fff3cd}"
      ".failed{background:#f8d7da}.na{background:#eee}section.layer{border-top:1px solid #bbb;margin-top:14px}"
      ".charts{display:flex;gap:16px;flex-wrap:wrap}.ev{min-width:340px}.thumbs{min-width:160px;max-width:240px}."
      "thumbs svg{margin:2px;border:1px solid "
      "#888}"
      "code{font-size:12px}.small{font-size:12px;color:#555}</style></head><body>\n";
  h += "<h1>qkern doctor</h1><p class=\"small\">dump <code>" + esc(r.inputs.dump) + "</code>, " +
       std::to_string(r.calibration_samples) + " calibration samples, " + std::to_string(r.layers.size()) +
       " layers; model <code>" + esc(r.inputs.model) + "</code>, reference <code>" +
       esc(r.inputs.reference.empty() ? "(none)" : r.inputs.reference) + "</code></p>\n";

  // Verdicts.
  h += "<h2>Verdicts</h2><table id=\"verdicts\"><tr><th>suspect</th><th>verdict</th><th>evidence (worst finding)</th>"
       "</tr>";
  for (Suspect su : {Suspect::emulation, Suspect::calibration, Suspect::evaluation, Suspect::ranges}) {
    const bool checked = r.checked(su);
    const Severity v = r.verdict(su);
    const Diagnosis* worst = nullptr;
    for (const Diagnosis& d : r.diagnoses)
      if (d.suspect == su && (!worst || d.severity > worst->severity)) worst = &d;
    h += std::string("<tr class=\"") + (checked ? sev_class(v) : "na") + "\"><td>" + suspect_name(su) + "</td><td>" +
         (checked ? sev_class(v) : "n/a") + "</td><td>" +
         (worst ? esc((worst->layer.empty() ? "" : worst->layer + ": ") + worst->evidence) : "not checked") +
         "</td></tr>";
  }
  h += "</table>\n";

  // Findings with thumbnails.
  h += "<h2>Findings</h2><table id=\"findings\"><tr><th>verdict</th><th>check</th><th>layer / channels</th>"
       "<th>measured</th><th>threshold</th><th>evidence and what to do</th><th>samples</th></tr>";
  double ilo = 0.0, ihi = 1.0;
  if (!r.image_data.empty()) {
    const MinMax mm = minmax(r.image_data.data(), r.image_data.size());
    if (mm.has_finite() && mm.max > mm.min) {
      ilo = mm.min;
      ihi = mm.max;
    }
  }
  for (const Diagnosis& d : r.diagnoses) {
    h += std::string("<tr class=\"") + sev_class(d.severity) + "\"><td>" + sev_class(d.severity) + "</td><td>" +
         esc(d.check) + "</td><td>" + esc(d.layer) + (d.channels.empty() ? "" : " ch " + list_indices(d.channels)) +
         "</td><td>" + num(d.value) + "</td><td>" + num(d.threshold) + "<br><span class=\"small\">" +
         esc(d.threshold_name) + "</span></td><td class=\"ev\">" + esc(d.evidence) +
         (d.action.empty() ? "" : "<br><b>&rarr; " + esc(d.action) + "</b>") + "</td><td" +
         (d.samples.empty() || r.image_data.empty() || !d.layer.empty() ? "" : " class=\"thumbs\"") + ">";
    if (!r.image_data.empty() && d.suspect == Suspect::calibration && d.layer.empty()) {
      for (std::size_t k = 0; k < d.samples.size() && k < 12; ++k)
        if ((d.samples[k] + 1) * r.image_channels * r.image_height * r.image_width <= r.image_data.size())
          h += thumbnail(r, d.samples[k], ilo, ihi);
    }
    h += d.samples.empty() ? "" : "<br><span class=\"small\">" + esc(list_indices(d.samples)) + "</span>";
    h += "</td></tr>";
  }
  h += "</table>";
  for (const std::string& n : r.notes) h += "<p class=\"small\">note: " + esc(n) + "</p>";

  // Three-way.
  if (r.three_way) {
    const ThreeWayStatistics& t = *r.three_way;
    h += "<h2>Three-way test</h2><table id=\"three-way\"><tr><th>" + esc(t.report.metric_name) +
         "</th><th>value</th></tr><tr><td>reference (float) vs truth</td><td>" + num(t.report.reference_vs_truth) +
         "</td></tr><tr><td>quantized vs truth</td><td>" + num(t.report.quantized_vs_truth) +
         "</td></tr><tr><td><b>degradation (the verdict)</b></td><td><b>" + num(t.report.degradation) + "</b> [" +
         num(t.stats.ci_low) + ", " + num(t.stats.ci_high) + "] " + num(100.0 * t.stats.confidence, "%.0f") +
         "% paired bootstrap (" + std::to_string(t.stats.resamples) + " resamples)</td></tr><tr><td>" +
         esc(t.stats.test_name()) + "</td><td>p = " + num(t.stats.p_value) +
         "; b = " + std::to_string(t.stats.reference_only) + ", c = " + std::to_string(t.stats.quantized_only) +
         ", n = " + std::to_string(t.stats.samples) + "</td></tr><tr><td>two-way output SQNR (" + kTwoWayLabel +
         ")</td><td>" + num(t.report.reference_vs_quantized.sqnr_db, "%.2f") + " dB</td></tr></table>";
    if (!t.stats.warning.empty()) h += "<p class=\"suspect\">warning: " + esc(t.stats.warning) + "</p>";
  }

  // Noise table.
  h += "<h2>Noise table</h2><p class=\"small\">int8 fake quantization, SQNR in dB measured on held-out calibration "
       "samples (every 2nd sample held out; ranges fitted on the others)</p><table id=\"noise\"><tr><th>layer</th>";
  std::vector<std::string> methods;
  for (const LayerRow& l : r.layers)
    if (l.range && methods.empty())
      for (const MethodOutcome& m : l.range->methods) methods.push_back(fit_method_name(m.method));
  for (const std::string& m : methods) h += "<th>" + m + "</th>";
  h += "<th>per-channel min-max</th><th>spread</th><th>flag</th></tr>";
  for (const LayerRow& l : r.layers) {
    if (!l.range) continue;
    const RangeCheck& rc = *l.range;
    h += std::string("<tr class=\"") + sev_class(rc.diagnosis.severity) + "\"><td>" + esc(l.name) + "</td>";
    for (std::size_t k = 0; k < rc.methods.size(); ++k)
      h += std::string("<td>") + (k == rc.best ? "<b>" : "") + num(rc.methods[k].held_out_sqnr_db, "%.1f") +
           (k == rc.best ? "</b>" : "") + "</td>";
    h += "<td>" + (std::isnan(rc.per_channel_sqnr_db) ? std::string("-") : num(rc.per_channel_sqnr_db, "%.1f")) +
         "</td><td>" + num(rc.spread.spread, "%.3g") + "x</td><td>" + sev_class(rc.diagnosis.severity) + "</td></tr>";
  }
  h += "</table>\n";

  // Layers.
  h += "<h2>Layers</h2>";
  for (const LayerRow& l : r.layers) {
    std::string shape;
    for (std::size_t d = 1; d < l.shape.size(); ++d) shape += (d > 1 ? "x" : "") + std::to_string(l.shape[d]);
    h += "<section class=\"layer\" id=\"layer-" + esc(l.name) + "\"><h3>" + esc(l.name) + " <span class=\"small\">(" +
         shape + " per sample, range [" + num(l.hist_lo) + ", " + num(l.hist_hi) + "]" +
         (l.bn.empty() ? "" : ", feeds " + esc(l.bn) + ": pre-BN, folded away") + ")</span></h3>";
    if (l.bn_check)
      h += "<p class=\"small\">BN statistics: median KL " + num(l.bn_check->median_kl) + " nats, max " +
           num(l.bn_check->max_kl) + "</p>";
    if (l.reference)
      h += "<p class=\"small\">reference distance: Jensen-Shannon " + num(l.reference->js_bits) + " bits</p>";
    h += "<div class=\"charts\">" + histogram_svg(l) + channel_svg(l) + "</div>";
    if (l.range) h += "<p class=\"small\">" + esc(l.range->diagnosis.evidence) + "</p>";
    h += "</section>\n";
  }
  h += "<p class=\"small\">qkern doctor; thresholds and their justification: docs/doctor.md</p></body></html>\n";
  return h;
}

}  // namespace qkern::tool::doctor
