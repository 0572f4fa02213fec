// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// cmd_doctor.cpp: the `qkern doctor` command (docs/doctor.md).
#include "cmd_doctor.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>

namespace qkern::tool {

CLI::App* add_doctor_command(CLI::App& app, DoctorArgs& a) {
  CLI::App* c = app.add_subcommand(
      "doctor",
      "The accuracy checklist: (1) FP emulation vs original, (2) calibration set in-domain, (3) three-way test "
      "with statistics, (4) wide ranges; one verdict line per suspect, then the per-layer table");
  doctor::Inputs& in = a.inputs;
  c->add_option("dump", in.dump, "Calibration dump directory (its calib/ subfolder if present)")->required();
  c->add_option("--model", in.model, "Model directory: bn.npz, ref/, test_logits_float.npy (default: DUMP)");
  c->add_option("--reference", in.reference, "Reference activations (a slice of training / validation data)");
  c->add_option("--bn", in.bn, "BatchNorm parameters (<bn>.running_mean / .running_var; default MODEL/bn.npz)");
  c->add_option("--original", in.original, "Original model's float outputs (default MODEL/test_logits_float.npy)");
  c->add_option("--emulated", in.emulated, "Float emulation's outputs (default DUMP/test_logits_float.npy)");
  c->add_option("--quantized", in.quantized, "Quantized outputs (default DUMP/test_logits_int8.npy)");
  c->add_option("--original-layers", in.original_layers,
                "Per-layer dumps of the original model on some inputs (a directory, layers as in DUMP)");
  c->add_option("--emulated-layers", in.emulated_layers,
                "Per-layer dumps of the float emulation on the same inputs: the first diverging layer");
  c->add_option("--labels", in.labels, "Ground-truth labels (default test/labels.npy in DUMP or a parent)");
  c->add_option("--images-layer", in.images_layer, "Layer holding the input images")->capture_default_str();
  c->add_option("--report", a.report, "Write the self-contained HTML report to this file");
  c->add_option("--state", a.state,
                "Also write the calibration state of the dump (byte-identical to `qkern collect DUMP/calib -o`)");
  c->add_option("-j,--threads", a.options.threads, "Collection worker threads (default: hardware threads)");
  c->add_option("--sample-mb", a.sample_mb,
                "Per layer, MB of samples (every k-th) kept for the histogram, reference distance and held-out "
                "range check; everything else uses every value")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1.0e6));
  c->add_option("--max-images", a.options.max_images, "First images kept for the image content checks")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000000));
  c->add_flag("--timing", a.timing, "Print the collection's time and throughput on stderr");
  doctor::Options& o = a.options;
  c->add_option("--top-k", o.top_k, "Task metric: top-k accuracy")->capture_default_str();
  c->add_option("--bn-kl", o.domain.bn_kl_nats, "Threshold: median channel KL (nats) vs BN running statistics")
      ->capture_default_str();
  c->add_option("--reference-js", o.domain.reference_js_bits, "Threshold: Jensen-Shannon (bits) vs the reference")
      ->capture_default_str();
  c->add_option("--neighbour-correlation", o.domain.neighbour_correlation_min,
                "Threshold: images below this neighbour-pixel correlation look like noise")
      ->capture_default_str();
  c->add_option("--emulation-sqnr", o.emulation.output_sqnr_db, "Threshold: emulation vs original output SQNR (dB)")
      ->capture_default_str();
  c->add_option("--held-out-sqnr", o.ranges.held_out_sqnr_db, "Threshold: best held-out int8 SQNR of a layer (dB)")
      ->capture_default_str();
  c->add_option("--min-eval-samples", o.stats.min_samples, "Threshold: evaluation samples for the three-way test")
      ->capture_default_str();
  c->add_option("--seed", o.stats.seed, "Bootstrap seed")->capture_default_str();
  c->footer(
      "Examples:\n"
      "  qkern doctor data/digits/bn --report report.html\n"
      "  qkern doctor data/digits/broken/uniform_noise --model data/digits/bn\n"
      "Thresholds and their justification: docs/doctor.md.");
  return c;
}

int cmd_doctor(const DoctorArgs& a) {
  doctor::Options o = a.options;
  o.sample_values = static_cast<std::size_t>(a.sample_mb * (1 << 20) / sizeof(float));
  const doctor::Report r = doctor::run(a.inputs, o);
  if (a.timing)
    std::fprintf(stderr, "qkern doctor: collection %.3f s, %zu files, %.1f MB, %.1f MB/s\n", r.collection_seconds,
                 r.collection_files, r.collection_bytes / 1e6,
                 r.collection_seconds > 0 ? r.collection_bytes / 1e6 / r.collection_seconds : 0.0);
  if (!a.state.empty()) r.state.save(a.state);
  std::cout << doctor::format_text(r);
  if (!a.report.empty()) {
    std::ofstream f(a.report, std::ios::binary);
    f << doctor::format_html(r);
    if (!f) throw DataError(a.report + ": cannot write the report");
    std::cout << "\nreport: " << a.report << "\n";
  }
  return 0;
}

int doctor_main(int argc, const char* const* argv) {
  CLI::App app{"qkern doctor"};
  app.require_subcommand(1);
  DoctorArgs args;
  add_doctor_command(app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "qkern: " << e.what() << "\n";
    return 1;
  }
  try {
    return cmd_doctor(args);
  } catch (const InvalidArgument& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const DataError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "qkern: internal error: " << e.what() << "\n";
    return 3;
  }
}

}  // namespace qkern::tool
