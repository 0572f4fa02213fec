// qkern — SPDX-License-Identifier: Apache-2.0
//
// calib/presets.hpp: one named preset per tool, so a port gets the tool's numbers by naming it once
// instead of setting convention, scheme, dtype, code range, percentile mode, |x| collection and bin
// rule field by field. A Preset carries every choice, consistently (its RangeOptions and FitOptions
// agree on scheme / narrow / reduce range), and turns a range, a MinMax statistic or a histogram
// into parameters with the tool's formulas. The porting table (tool call -> preset) is
// docs/porting.md.
//
//   preset                                        tool call it reproduces
//   presets::pytorch(dtype, scheme, quant range)  torch.ao observers' calculate_qparams (MinMax,
//                                                 MovingAverage*, PerChannel*), FakeQuantize
//   presets::pytorch_default_observer() ...       torch.ao default_observer, default_weight_observer,
//                                                 default_per_channel_weight_observer,
//                                                 default_histogram_observer, default_fake_quant,
//                                                 default_weight_fake_quant,
//                                                 default_per_channel_weight_fake_quant
//   presets::modelopt(method, bits, unsigned)     ModelOpt / TensorRT HistogramCalibrator
//                                                 compute_amax(method) + fake quant (amax / 127)
//   presets::modelopt_max(bits, unsigned)         ModelOpt MaxCalibrator
//   presets::onnxruntime(method, dtype, sym)      onnxruntime.quantization MinMax / Percentile
//                                                 calibrators + compute_scale_zp
//   presets::tflite_activations / tflite_weights  TFLite converter's int8 activations (affine) and
//                                                 weights (symmetric, narrow range)
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "qkern/calib/binning_rules.hpp"
#include "qkern/calib/fit.hpp"
#include "qkern/calib/histogram_view.hpp"
#include "qkern/calib/streaming_histogram.hpp"
#include "qkern/core/abi.hpp"
#include "qkern/core/choose_params.hpp"
#include "qkern/core/params.hpp"

namespace qkern {
inline namespace QKERN_ABI_NS {

/// Everything a tool decides about turning statistics into quantization parameters.
struct Preset {
  const char* name = "qkern";
  Convention convention = Convention::qkern;
  DType dtype = DType::int8;
  RangeOptions range;                                       ///< scheme, narrow / reduce range, custom code range
  FitOptions fit;                                           ///< the same scheme / narrow / reduce; method fields
  FitMethod method = FitMethod::minmax;                     ///< the tool's histogram method (minmax for min/max tools)
  HistogramValues values = HistogramValues::signed_values;  ///< ModelOpt collects |x|
  std::size_t bins = 2048;                                  ///< the tool's histogram size
  BinRule bin_rule = BinRule::qkern;                        ///< the tool's binning (FixedHistogram / ToolBinning)
  float averaging_constant = 1.0f;                          ///< < 1: the tool's observer is a moving average (EMA)

  /// Parameters for values in [min, max] (choose_params with the tool's convention and options).
  QuantParams params(double min, double max) const { return choose_params(min, max, dtype, range, convention); }
  /// From an observer's MinMax; DataError when it saw no finite value.
  QuantParams params(const MinMax& r) const { return choose_params(r, dtype, range, convention); }
  /// Per-channel, one MinMax per channel.
  ChannelQuantParams params(const std::vector<MinMax>& r) const { return choose_params(r, dtype, range, convention); }
  /// From a histogram with the tool's method: fit_range(h, method, fit), then the tool's
  /// choose_params (custom code ranges included). Errors as fit_range / choose_params.
  QuantParams params(const HistogramView& h) const {
    detail::check_unsigned_range(fit, dtype);
    const FitRange r = fit_range(h, method, fit);
    return choose_params(r.min, r.max, dtype, range, convention);
  }
  /// Per-channel histograms.
  ChannelQuantParams params(const std::vector<HistogramView>& h) const {
    detail::check_unsigned_range(fit, dtype);
    const std::vector<FitRange> r = fit_range(h, method, fit);
    ChannelQuantParams cp = ChannelQuantParams::make(dtype, {}, {}, detail::convention_range(dtype, range, convention),
                                                     detail::convention_arithmetic(convention));
    for (const FitRange& fr : r) {
      const QuantParams p = choose_params(fr.min, fr.max, dtype, range, convention);
      cp.scale.push_back(p.scale);
      cp.zero_point.push_back(p.zero_point);
      cp.qmin = p.qmin;
      cp.qmax = p.qmax;
    }
    return cp;
  }
};

namespace presets {
namespace detail {

inline Preset with_scheme(Preset p, Scheme s) {
  p.range.scheme = s;
  p.fit.scheme = s;
  return p;
}

}  // namespace detail

/// PyTorch torch.ao observers / FakeQuantize: dtype (DType::uint8 = quint8, int8 = qint8), qscheme
/// (per_tensor_/per_channel_ affine or symmetric), quant_min/quant_max (std::nullopt = the dtype's
/// default), reduce_range (floor-halves the bounds, as calculate_qmin_qmax). Histogram method:
/// HistogramObserver's L2 search; for torch's collection itself use TorchHistogramObserver
/// (calib/torch_histogram.hpp), whose qparams() applies this preset's formulas.
inline Preset pytorch(DType dtype = DType::uint8, Scheme qscheme = Scheme::affine,
                      std::optional<QRange> quant_range = std::nullopt, bool reduce_range = false) {
  Preset p;
  p.name = "pytorch";
  p.convention = Convention::pytorch;
  p.dtype = dtype;
  p.range.range = quant_range;
  p.range.reduce_range = reduce_range;
  p.fit.reduce_range = reduce_range;
  p.method = FitMethod::l2_search;
  p.bin_rule = BinRule::torch_histc;
  return detail::with_scheme(p, qscheme);
}

/// torch.ao.quantization default_observer: MinMaxObserver, quint8, quant_min 0, quant_max 127.
inline Preset pytorch_default_observer() {
  Preset p = pytorch(DType::uint8, Scheme::affine, QRange{0, 127});
  p.name = "pytorch default_observer";
  p.method = FitMethod::minmax;
  return p;
}
/// default_weight_observer: MinMaxObserver, qint8, per_tensor_symmetric.
inline Preset pytorch_default_weight_observer() {
  Preset p = pytorch(DType::int8, Scheme::symmetric);
  p.name = "pytorch default_weight_observer";
  p.method = FitMethod::minmax;
  return p;
}
/// default_per_channel_weight_observer: PerChannelMinMaxObserver, qint8, per_channel_symmetric.
inline Preset pytorch_default_per_channel_weight_observer() {
  Preset p = pytorch_default_weight_observer();
  p.name = "pytorch default_per_channel_weight_observer";
  return p;
}
/// default_histogram_observer: HistogramObserver(quant_min=0, quant_max=127), quint8 affine.
inline Preset pytorch_default_histogram_observer() {
  Preset p = pytorch(DType::uint8, Scheme::affine, QRange{0, 127});
  p.name = "pytorch default_histogram_observer";
  return p;
}
/// default_fake_quant: MovingAverageMinMaxObserver (0.01), quant_min 0, quant_max 255, quint8,
/// per_tensor_affine, reduce_range=True (so codes 0..127).
inline Preset pytorch_default_fake_quant() {
  Preset p = pytorch(DType::uint8, Scheme::affine, QRange{0, 255}, true);
  p.name = "pytorch default_fake_quant";
  p.method = FitMethod::minmax;
  p.averaging_constant = 0.01f;
  return p;
}
/// default_weight_fake_quant: MovingAverageMinMaxObserver, quant_min -128, quant_max 127, qint8,
/// per_tensor_symmetric.
inline Preset pytorch_default_weight_fake_quant() {
  Preset p = pytorch(DType::int8, Scheme::symmetric, QRange{-128, 127});
  p.name = "pytorch default_weight_fake_quant";
  p.method = FitMethod::minmax;
  p.averaging_constant = 0.01f;
  return p;
}
/// default_per_channel_weight_fake_quant: MovingAveragePerChannelMinMaxObserver, -128..127, qint8,
/// per_channel_symmetric, ch_axis 0.
inline Preset pytorch_default_per_channel_weight_fake_quant() {
  Preset p = pytorch_default_weight_fake_quant();
  p.name = "pytorch default_per_channel_weight_fake_quant";
  return p;
}

/// ModelOpt / TensorRT HistogramCalibrator(num_bits, unsigned, num_bins=2048) + compute_amax(method,
/// start_bin=128, stride=1, percentile=99.99): histograms of |x| (torch.histc binning on the torch
/// path; BinRule::numpy for torch_hist=False), symmetric, narrow range, scale = amax / 127 (255
/// unsigned), percentile at the left bin edge. method: entropy (TensorRT's default EntropyCalibration2),
/// mse, percentile, or minmax (= MaxCalibrator on the histogram's extent). For ModelOpt's own bin
/// growth use ModelOptHistogramCalibrator (calib/modelopt_histogram.hpp).
inline Preset modelopt(FitMethod method = FitMethod::entropy, int num_bits = 8, bool unsigned_ = false) {
  Preset p;
  p.name = "modelopt";
  p.convention = Convention::tensorrt;
  p.dtype = num_bits <= 4 ? (unsigned_ ? DType::uint4 : DType::int4) : (unsigned_ ? DType::uint8 : DType::int8);
  p.fit.num_bits = num_bits;
  p.fit.unsigned_range = unsigned_;
  p.fit.percentile = 99.99;
  p.fit.percentile_mode = PercentileMode::left_edge;
  p.fit.start_bin = 128;
  p.fit.stride = 1;
  p.method = method;
  p.values = HistogramValues::absolute_values;
  p.bins = 2048;
  p.bin_rule = BinRule::torch_histc;
  return detail::with_scheme(p, Scheme::symmetric);
}
/// ModelOpt MaxCalibrator: amax = running max |x| (use AbsMax / a MinMax observer), scale = amax / 127.
inline Preset modelopt_max(int num_bits = 8, bool unsigned_ = false) {
  Preset p = modelopt(FitMethod::minmax, num_bits, unsigned_);
  p.name = "modelopt max";
  return p;
}

/// ONNX Runtime calibration method (onnxruntime.quantization.CalibrationMethod).
enum class OrtMethod : std::uint8_t { minmax, percentile };

/// onnxruntime.quantization calibrators + quant_utils.compute_scale_zp: activation type (QUInt8 by
/// default; QInt8), symmetric (ActivationSymmetric; ORT's symmetric tables, e.g. int8 [-127, 127]),
/// reduce_range (ORT's reduced table, int8 [-64, 64]). minmax: MinMaxCalibrater (use a MinMax
/// observer; moving_average=True is averaging_constant 0.01). percentile: HistogramCalibrater
/// (num_bins 2048, percentile 99.999, symmetric=True: one-sided on |x|, left bin edge, np.histogram
/// binning). ORT's Entropy (MXNet-style KL) and Distribution methods have no preset (docs/porting.md).
inline Preset onnxruntime(OrtMethod method = OrtMethod::minmax, DType dtype = DType::uint8, bool symmetric = false,
                          bool reduce_range = false) {
  Preset p;
  p.name = method == OrtMethod::minmax ? "onnxruntime minmax" : "onnxruntime percentile";
  p.convention = Convention::onnxruntime;
  p.dtype = dtype;
  p.range.reduce_range = reduce_range;
  p.fit.reduce_range = reduce_range;
  p.bin_rule = BinRule::numpy;
  Scheme s = symmetric ? Scheme::symmetric : Scheme::affine;
  if (method == OrtMethod::percentile) {
    p.method = FitMethod::percentile;
    p.fit.percentile = 99.999;
    p.fit.percentile_mode = PercentileMode::left_edge;
    p.values = HistogramValues::absolute_values;  // create_calibrator: percentile uses symmetric=True
    p.bins = 2048;
    s = Scheme::symmetric;
  }
  return detail::with_scheme(p, s);
}

/// TFLite converter, int8 activations: affine, [-128, 127], zero point nudged from the nearer end and
/// rounded half away from zero, quantize divides and rounds half away (Convention::tflite).
inline Preset tflite_activations() {
  Preset p;
  p.name = "tflite activations";
  p.convention = Convention::tflite;
  p.dtype = DType::int8;
  return detail::with_scheme(p, Scheme::affine);
}
/// TFLite converter, int8 weights (per tensor or per channel): symmetric, narrow range [-127, 127].
inline Preset tflite_weights() {
  Preset p = tflite_activations();
  p.name = "tflite weights";
  p.range.narrow_range = true;
  p.fit.narrow_range = true;
  return detail::with_scheme(p, Scheme::symmetric);
}

}  // namespace presets
}  // namespace QKERN_ABI_NS
}  // namespace qkern
