// qkern tool — SPDX-License-Identifier: Apache-2.0
#include "commands.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cmd_doctor.hpp"
#include "collect.hpp"
#include "export.hpp"
#include "fitting.hpp"
#include "qkern/version.hpp"
#include "state.hpp"
#include "table.hpp"
#include "tensors.hpp"

#ifdef QKERN_TOOL_MPI
#include "qkern/mpi.hpp"
#endif

namespace qkern::tool {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Options shared by several commands.

struct FitArgs {
  std::string method = "minmax", dtype = "int8", scheme, tool, format;
  bool per_channel = false, narrow_range = false, reduce_range = false, power_of_two = false;
  double percentile = 99.99;

  void add_to(CLI::App* c, bool with_method = true) {
    if (with_method)
      c->add_option("-m,--method", method, "Fitting method: minmax, percentile, mse, entropy, l2_search, sqnr")
          ->capture_default_str();
    c->add_option("-d,--dtype", dtype, "Quantized type: int8, uint8, int16, uint16, int4, uint4")
        ->capture_default_str();
    c->add_option("-s,--scheme", scheme, "symmetric or affine (default: symmetric; affine for ORT formats)");
    c->add_option("-t,--tool", tool,
                  "Whose formulas turn a range into scale/zero point: qkern, pytorch, tensorrt, onnxruntime, "
                  "tflite, fbgemm (default: qkern; the format's tool for export)");
    c->add_flag("-c,--per-channel", per_channel, "Per-channel parameters (layers collected with a channel axis)");
    c->add_option("-p,--percentile", percentile, "Percentile kept by --method percentile")->capture_default_str();
    c->add_flag("--narrow-range", narrow_range, "Signed types drop their lowest code (int8 -> [-127, 127])");
    c->add_flag("--reduce-range", reduce_range, "One bit less (PyTorch / ONNX Runtime reduce_range)");
    c->add_flag("--power-of-two", power_of_two, "Power-of-two scales");
  }

  FitSettings settings(const char* default_tool = "qkern", const char* default_scheme = "symmetric") const {
    FitSettings s;
    s.method = parse_method(method);
    s.dtype = parse_dtype_option(dtype);
    s.scheme = parse_scheme(scheme.empty() ? default_scheme : scheme);
    s.convention = parse_convention(tool.empty() ? default_tool : tool);
    s.per_channel = per_channel;
    s.percentile = percentile;
    if (!(percentile >= 0.0 && percentile <= 100.0))
      throw InvalidArgument("--percentile", "must be in [0, 100], got " + num(percentile));
    s.narrow_range = narrow_range;
    s.reduce_range = reduce_range;
    s.power_of_two_scale = power_of_two;
    return s;
  }
};

struct CollectArgs {
  std::vector<std::string> inputs;
  std::string axis = "1";
  std::size_t bins = 2048;
  unsigned threads = 0;
  bool quiet = false;

  void add_to(CLI::App* c, const char* axis_option = "--per-channel") {
    c->add_option(axis_option, axis,
                  "Channel axis of the per-channel observers (negative counts from the end; 'none' for per-tensor "
                  "observers only). Layers whose axis is 0 or out of range get per-tensor observers only")
        ->capture_default_str();
    c->add_option("--bins", bins, "Bins of every streaming histogram")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{2}, std::size_t{1} << 24));
    c->add_option("-j,--threads", threads, "Worker threads (default: hardware threads)");
    c->add_flag("-q,--quiet", quiet, "No progress bar (it is shown only when stderr is a terminal)");
  }

  CollectOptions options() const {
    CollectOptions o;
    o.observers.bins = bins;
    if (axis == "none" || axis == "off")
      o.observers.channel_axis.reset();
    else {
      try {
        std::size_t used = 0;
        o.observers.channel_axis = std::stoi(axis, &used);
        if (used != axis.size()) throw std::invalid_argument(axis);
      } catch (const std::exception&) {
        throw InvalidArgument("--per-channel", "expects an axis (integer) or 'none', got '" + axis + "'");
      }
    }
    o.threads = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
    if (!quiet && isatty(2)) {
      const auto start = std::chrono::steady_clock::now();
      o.progress = [start](std::size_t done, std::size_t total, std::uint64_t bytes, std::uint64_t bytes_total) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const int width = 30;
        const int fill = total ? static_cast<int>(width * done / total) : width;
        const double mb = bytes / 1e6, rate = s > 0 ? mb / s : 0.0;
        const double eta = bytes > 0 && bytes_total > bytes ? s * double(bytes_total - bytes) / double(bytes) : 0.0;
        std::fprintf(stderr, "\r[%s%s] %zu/%zu files  %.1f/%.1f MB  %.0f MB/s  ETA %.0fs ",
                     std::string(fill, '#').c_str(), std::string(width - fill, '.').c_str(), done, total, mb,
                     bytes_total / 1e6, rate, eta);
        if (done == total) std::fputc('\n', stderr);
        std::fflush(stderr);
      };
    }
    return o;
  }
};

void print_summary_line(const CalibrationState& s, const std::string& out, const std::string& how = "") {
  std::uint64_t elements = 0;
  for (const LayerState& l : s.layers) elements += l.elements();
  std::cerr << "qkern: " << how << s.layers.size() << " layers, " << elements << " values -> " << out << "\n";
}

// Warnings TensorRT users know: uniformly zero tensors, skipped non-finite values.
void warn_layers(const CalibrationState& s) {
  for (const LayerState& l : s.layers) {
    const MinMax m = l.minmax().range();
    if (m.counts.skipped() != 0)
      std::cerr << "warning: layer '" << l.name() << "': " << m.counts.nan << " NaN, " << m.counts.pos_inf << " +Inf, "
                << m.counts.neg_inf << " -Inf values skipped (not part of the statistics)\n";
    if (m.has_finite() && m.min == 0.0f && m.max == 0.0f)
      std::cerr << "warning: layer '" << l.name() << "' is uniformly zero (scale 1 fallback)\n";
  }
}

std::vector<LayerFit> fit_all(const CalibrationState& s, const FitSettings& settings) {
  std::vector<LayerFit> fits;
  std::size_t fallback = 0;
  for (const LayerState& l : s.layers) {
    if (settings.per_channel && !l.per_channel()) ++fallback;
    fits.push_back(fit_layer(l, settings));
  }
  if (fallback)
    std::cerr << "note: " << fallback << " layer(s) have no per-channel observers (rank < 2 or collected with "
              << "--per-channel none): fitted per tensor\n";
  return fits;
}

std::string range_cell(const std::vector<double>& v, bool lowest) {
  double r = v.empty() ? 0.0 : v[0];
  for (double x : v) r = lowest ? std::fmin(r, x) : std::fmax(r, x);
  return num(r);
}

// Flags of a fitted layer: SQNR below 10 dB (Hailo's highlight line), uniformly zero data,
// non-finite values skipped.
constexpr double kLowSqnrDb = 10.0;
std::string flags_of(const LayerFit& f) {
  std::string s;
  auto add = [&](const char* w) { s += (s.empty() ? "" : ",") + std::string(w); };
  if (f.sqnr_db < kLowSqnrDb) add("low-sqnr");
  bool zero = true;
  for (std::size_t i = 0; i < f.observed_min.size(); ++i) zero &= f.observed_min[i] == 0.0 && f.observed_max[i] == 0.0;
  if (zero) add("all-zero");
  if (f.nan + f.pos_inf + f.neg_inf != 0) add("non-finite");
  return s.empty() ? "-" : s;
}

std::string fit_table(const std::vector<LayerFit>& fits) {
  Table t({"layer", "shape", "axis", "min", "max", "clip lo", "clip hi", "scale", "zero pt", "NaN/Inf", "SQNR dB",
           "flags"});
  for (const LayerFit& f : fits) {
    std::string scale = num(f.scales[0]), zp = std::to_string(f.zero_points[0]);
    if (f.scales.size() > 1) {
      scale = range_cell(f.scales, true) + ".." + range_cell(f.scales, false);
      std::int64_t zmin = f.zero_points[0], zmax = zmin;
      for (auto z : f.zero_points) zmin = std::min(zmin, z), zmax = std::max(zmax, z);
      zp = zmin == zmax ? std::to_string(zmin) : std::to_string(zmin) + ".." + std::to_string(zmax);
    }
    t.add({f.name, shape_str(f.shape), f.axis < 0 ? "-" : std::to_string(f.axis), range_cell(f.observed_min, true),
           range_cell(f.observed_max, false), range_cell(f.range_min, true), range_cell(f.range_max, false), scale, zp,
           std::to_string(f.nan + f.pos_inf + f.neg_inf), num(f.sqnr_db, 4), flags_of(f)});
  }
  return t.str();
}

json fit_json(const LayerFit& f) {
  return json{{"name", f.name},
              {"shape", f.shape},
              {"dtype", dtype_name(f.dtype)},
              {"qmin", f.qmin},
              {"qmax", f.qmax},
              {"scheme", f.scheme},
              {"method", f.method},
              {"convention", f.convention},
              {"axis", f.axis},
              {"scales", f.scales},
              {"zero_points", f.zero_points},
              {"range_min", f.range_min},
              {"range_max", f.range_max},
              {"observed_min", f.observed_min},
              {"observed_max", f.observed_max},
              {"finite", f.finite},
              {"nan", f.nan},
              {"pos_inf", f.pos_inf},
              {"neg_inf", f.neg_inf},
              {"sqnr_db_estimate", std::isfinite(f.sqnr_db) ? json(f.sqnr_db) : json(nullptr)}};
}

std::map<std::string, std::string> export_meta(const FitSettings& s) {
  return {{"producer", std::string("qkern ") + QKERN_VERSION_STRING},
          {"method", fit_method_name(s.method)},
          {"dtype", dtype_name(s.dtype)},
          {"scheme", scheme_name(s.scheme)},
          {"convention", convention_name(s.convention)},
          {"per_channel", s.per_channel ? "true" : "false"}};
}

void ensure_parent(const std::string& path) {
  const fs::path p = fs::path(path).parent_path();
  std::error_code ec;
  if (!p.empty()) fs::create_directories(p, ec);
  if (ec) throw DataError(path + ": cannot create the directory (" + ec.message() + ")");
}

// ---------------------------------------------------------------------------------------------
// Commands.

#ifdef QKERN_TOOL_MPI
// Launched by mpirun / mpiexec (OpenMPI, MPICH / PMI, PMIx)?
bool launched_by_mpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr ||
         std::getenv("PMIX_RANK") != nullptr;
}

// `mpirun -np N qkern collect ...`: rank r collects files r, r + N, r + 2N, ... of the sorted list;
// rank 0 gathers every rank's state (or error) and merges them in rank order. Every merge is exact,
// so the state is byte-identical to one process. Every rank returns rank 0's exit code.
int cmd_collect_mpi(CollectArgs& a, const std::string& out) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) MPI_Init(nullptr, nullptr);
  struct Finalize {
    ~Finalize() { MPI_Finalize(); }
  } finalize;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<std::uint8_t> blob(1, 0);
  std::size_t total_files = 0;
  try {
    CollectOptions o = a.options();
    if (rank != 0) o.progress = nullptr;
    const std::vector<InputFile> files = list_inputs(a.inputs);
    total_files = files.size();
    std::vector<InputFile> shard;
    for (std::size_t i = static_cast<std::size_t>(rank); i < files.size(); i += static_cast<std::size_t>(size))
      shard.push_back(files[i]);
    const std::vector<std::uint8_t> s = collect(shard, o).serialize();
    blob.insert(blob.end(), s.begin(), s.end());
  } catch (const std::exception& e) {
    blob.assign(1, dynamic_cast<const InvalidArgument*>(&e) ? kExitUsage
                   : dynamic_cast<const DataError*>(&e)     ? kExitData
                                                            : kExitInternal);
    const std::string m = "rank " + std::to_string(rank) + ": " + e.what();
    blob.insert(blob.end(), m.begin(), m.end());
  }
  const std::vector<std::vector<std::uint8_t>> blobs = mpi::gather_blobs(blob, 0, MPI_COMM_WORLD);
  int result = kExitOk;
  if (rank == 0) {
    try {
      CalibrationState all;
      for (const std::vector<std::uint8_t>& b : blobs) {
        if (b.at(0) != 0) {
          std::cerr << std::string(b.begin() + 1, b.end()) << "\n";
          if (result == kExitOk) result = b[0];
          continue;
        }
        if (result == kExitOk)
          all.merge(CalibrationState::deserialize(std::vector<std::uint8_t>(b.begin() + 1, b.end()), "MPI rank state"));
      }
      if (result == kExitOk) {
        ensure_parent(out);
        all.save(out);
        warn_layers(all);
        if (!a.quiet)
          print_summary_line(all, out,
                             std::to_string(size) + " MPI ranks, " + std::to_string(total_files) + " files, ");
      }
    } catch (const DataError& e) {
      std::cerr << e.what() << "\n";
      result = kExitData;
    }
  }
  MPI_Bcast(&result, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return result;
}
#endif

int cmd_collect(CollectArgs& a, const std::string& out) {
#ifdef QKERN_TOOL_MPI
  if (launched_by_mpi()) return cmd_collect_mpi(a, out);
#endif
  const CollectOptions o = a.options();
  const std::vector<InputFile> files = list_inputs(a.inputs);
  const CalibrationState s = collect(files, o);
  ensure_parent(out);
  s.save(out);
  warn_layers(s);
  if (!a.quiet) print_summary_line(s, out);
  return kExitOk;
}

int cmd_merge(const std::vector<std::string>& inputs, const std::string& out) {
  CalibrationState s;
  for (const std::string& in : inputs) {
    try {
      s.merge(CalibrationState::load(in));
    } catch (const DataError& e) {
      std::string w = e.what();
      if (w.find(in) == std::string::npos) throw DataError(in + ": " + w.substr(w.rfind("qkern: ", 0) == 0 ? 7 : 0));
      throw;
    }
  }
  ensure_parent(out);
  s.save(out);
  return kExitOk;
}

int cmd_fit(const std::string& in, const FitArgs& a, bool as_json, const std::string& out) {
  const FitSettings settings = a.settings();
  const CalibrationState s = CalibrationState::load(in);
  const std::vector<LayerFit> fits = fit_all(s, settings);
  std::string text;
  if (as_json) {
    json arr = json::array();
    for (const LayerFit& f : fits) arr.push_back(fit_json(f));
    text = arr.dump(2) + "\n";
  } else {
    text = fit_table(fits);
  }
  if (out.empty() || out == "-") {
    std::cout << text;
  } else {
    ensure_parent(out);
    std::ofstream f(out);
    f << text;
    if (!f) throw DataError(out + ": write error");
  }
  return kExitOk;
}

int cmd_export(const std::string& in, const FitArgs& a, const std::string& out) {
  const ExportFormat& fmt = export_format(a.format);
  const FitSettings settings = a.settings(fmt.tool, fmt.scheme);
  const CalibrationState s = CalibrationState::load(in);
  const std::vector<LayerFit> fits = fit_all(s, settings);
  ensure_parent(out);
  write_export(fmt.name, out, fits, export_meta(settings));
  return kExitOk;
}

int cmd_stats(const std::string& in, const FitArgs& a, bool as_json) {
  FitSettings base = a.settings();
  const CalibrationState s = CalibrationState::load(in);
  const FitMethod methods[] = {FitMethod::minmax,  FitMethod::percentile, FitMethod::mse,
                               FitMethod::entropy, FitMethod::l2_search,  FitMethod::sqnr};
  Table stats(
      {"layer", "shape", "axis", "values", "min", "max", "p0.1", "p50", "p99.9", "|x| p99.99", "NaN", "+Inf", "-Inf"});
  std::vector<std::string> header = {"layer"};
  for (FitMethod m : methods) header.push_back(fit_method_name(m));
  header.push_back("best");
  Table fits(header);
  json out = json::array();
  for (const LayerState& l : s.layers) {
    const auto st = layer_statistics(l);
    auto get = [&](const char* k) {
      auto it = st.find(k);
      return it == st.end() ? std::string("-") : num(it->second);
    };
    stats.add({l.name(), shape_str(l.shape()), l.per_channel() ? std::to_string(l.channel_axis()) : "-",
               std::to_string(l.elements()), get("min"), get("max"), get("p0.1"), get("p50"), get("p99.9"),
               get("abs_p99.99"), get("nan"), get("pos_inf"), get("neg_inf")});
    json jl = {{"name", l.name()}, {"shape", l.shape()}, {"channel_axis", l.channel_axis()}, {"statistics", st}};
    std::vector<std::string> row = {l.name()};
    double best = -std::numeric_limits<double>::infinity();
    std::string best_name = "-";
    for (FitMethod m : methods) {
      FitSettings fs = base;
      fs.method = m;
      try {
        const LayerFit f = fit_layer(l, fs);
        const double lo = f.range_min[0], hi = f.range_max[0];
        const std::string range =
            f.scheme == "symmetric" ? num(std::fmax(-lo, hi), 4) : "[" + num(lo, 4) + "," + num(hi, 4) + "]";
        row.push_back(range + " (" + num(f.sqnr_db, 3) + ")");
        jl["methods"][fit_method_name(m)] = {
            {"range_min", lo},
            {"range_max", hi},
            {"scale", f.scales[0]},
            {"zero_point", f.zero_points[0]},
            {"sqnr_db_estimate", std::isfinite(f.sqnr_db) ? json(f.sqnr_db) : json(nullptr)}};
        if (f.sqnr_db > best) best = f.sqnr_db, best_name = fit_method_name(m);
      } catch (const DataError& e) {
        row.push_back("-");
        jl["methods"][fit_method_name(m)] = {{"error", e.what()}};
      }
    }
    row.push_back(best_name);
    fits.add(row);
    out.push_back(jl);
  }
  if (as_json) {
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << stats.str() << "\n"
              << "Per method: " << (base.scheme == Scheme::symmetric ? "clip threshold amax" : "clip range [lo,hi]")
              << " (estimated SQNR dB), " << dtype_name(base.dtype) << " " << scheme_name(base.scheme) << ", "
              << convention_name(base.convention) << " convention, per tensor\n"
              << fits.str();
  }
  return kExitOk;
}

int cmd_run(CollectArgs& c, const FitArgs& a, const std::string& out_dir) {
  const FitSettings settings = a.settings();
  const std::vector<InputFile> files = list_inputs(c.inputs);
  const CalibrationState s = collect(files, c.options());
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw DataError(out_dir + ": cannot create the directory (" + ec.message() + ")");
  const std::string dir = fs::path(out_dir).generic_string();
  std::vector<std::pair<std::string, std::string>> written;
  s.save(dir + "/state.qkstate");
  written.push_back({dir + "/state.qkstate", "collected observers (qkern fit/export/stats/merge read it)"});
  warn_layers(s);
  const std::vector<LayerFit> fits = fit_all(s, settings);
  const std::string table = fit_table(fits);
  std::cout << "qkern: " << s.layers.size() << " layers from " << files.size() << " files, " << a.method << " "
            << dtype_name(settings.dtype) << " " << scheme_name(settings.scheme) << " ("
            << convention_name(settings.convention) << " convention" << (settings.per_channel ? ", per channel" : "")
            << ")\n\n"
            << table;
  {
    std::ofstream t(dir + "/table.txt");
    t << table;
  }
  written.push_back({dir + "/table.txt", "the table above"});
  for (const ExportFormat& fmt : export_formats()) {
    FitArgs fa = a;
    FitSettings fs =
        fa.settings(a.tool.empty() ? fmt.tool : a.tool.c_str(), a.scheme.empty() ? fmt.scheme : a.scheme.c_str());
    if (std::string(fmt.name) == "trt-cache") fs.per_channel = false;  // TensorRT caches are per tensor
    const std::vector<LayerFit> ff = fit_all(s, fs);
    const std::string path = dir + "/" + fmt.file_name;
    write_export(fmt.name, path, ff, export_meta(fs));
    written.push_back({path, std::string(fmt.name) + " (" + fit_method_name(fs.method) + ", " +
                                 convention_name(fs.convention) + ", " + scheme_name(fs.scheme) + ")"});
  }
  std::cout << "\nWritten to " << dir << "/:\n";
  for (const auto& w : written)
    std::cout << "  " << fs::path(w.first).filename().string() << "  -  " << w.second << "\n";
  return kExitOk;
}

int cmd_quantize(const std::string& in, const std::string& params, const std::string& out, const std::string& layer,
                 bool dequant) {
  const std::map<std::string, LayerParams> p = read_params(params);
  if (dequant)
    dequantize_file(in, p, out, layer);
  else
    quantize_file(in, p, out, layer);
  return kExitOk;
}

const char* kExitCodes =
    "\nExit codes: 0 success, 1 usage error, 2 bad input data or file (the message names the file and "
    "layer), 3 internal error.";

}  // namespace

int run_cli(int argc, const char* const* argv) {
  CLI::App app{
      "qkern: calibration statistics and quantization parameters from tensor dumps\n"
      "(.npy / .npz / safetensors), exported for TensorRT, ONNX Runtime, AIMET and qkern."};
  app.set_version_flag("--version", std::string("qkern ") + QKERN_VERSION_STRING);
  app.require_subcommand(1);
  app.footer(std::string("Examples:\n"
                         "  qkern run data/digits/bn/calib -o digits-calib   # collect, fit, table, every export\n"
                         "  qkern doctor data/digits/bn --report report.html  # the accuracy checklist\n"
                         "  qkern collect dumps/ -o model.qkstate\n"
                         "  qkern fit model.qkstate --method entropy --tool tensorrt\n"
                         "  qkern export model.qkstate --format ort-table -o calibration.json\n"
                         "Run 'qkern <command> --help' for each command's options.") +
             kExitCodes);

  // collect
  CollectArgs collect_args;
  std::string collect_out;
  CLI::App* collect_cmd = app.add_subcommand("collect", "Observe tensors from files into a calibration state");
  collect_cmd
      ->add_option("inputs", collect_args.inputs,
                   "Tensor files or directories (searched recursively for .npy, .npz, .safetensors)")
      ->required();
  collect_cmd->add_option("-o,--output", collect_out, "State file to write")->required();
  collect_args.add_to(collect_cmd);
  collect_cmd->footer(
      std::string("A .npy file holds one layer named by its file stem; a .npz or safetensors file one layer "
                  "per key. Batches of a layer in several files are concatenated along axis 0. The state is "
                  "bit-identical for any split or order of the files and any --threads.\n"
                  "Examples:\n"
                  "  qkern collect dump/ -o all.qkstate\n"
                  "  qkern collect part1/*.npy -o a.qkstate && qkern collect part2/*.npy -o b.qkstate\n"
                  "  qkern collect acts.safetensors --per-channel -1 -j 4 -o nhwc.qkstate") +
      kExitCodes);

  // merge
  std::vector<std::string> merge_in;
  std::string merge_out;
  CLI::App* merge_cmd = app.add_subcommand("merge", "Merge calibration states (exact: same as one collect)");
  merge_cmd->add_option("states", merge_in, "State files")->required();
  merge_cmd->add_option("-o,--output", merge_out, "State file to write")->required();
  merge_cmd->footer(std::string("Example:\n  qkern merge a.qkstate b.qkstate -o all.qkstate") + kExitCodes);

  // fit
  std::string fit_in, fit_out;
  FitArgs fit_args;
  bool fit_json_flag = false;
  CLI::App* fit_cmd = app.add_subcommand("fit", "Fit quantization parameters and print a per-layer table");
  fit_cmd->add_option("state", fit_in, "State file")->required();
  fit_args.add_to(fit_cmd);
  fit_cmd->add_flag("--json", fit_json_flag, "JSON instead of the table");
  fit_cmd->add_option("-o,--output", fit_out, "Write the table / JSON to a file instead of stdout");
  fit_cmd->footer(std::string("Examples:\n"
                              "  qkern fit model.qkstate\n"
                              "  qkern fit model.qkstate --method entropy --tool tensorrt\n"
                              "  qkern fit model.qkstate --method percentile -p 99.9 --scheme affine --dtype uint8 "
                              "--tool pytorch --per-channel --json") +
                  kExitCodes);

  // export
  std::string export_in, export_out;
  FitArgs export_args;
  CLI::App* export_cmd = app.add_subcommand("export", "Fit and write a calibration file for a deployment tool");
  export_cmd->add_option("state", export_in, "State file")->required();
  export_cmd->add_option("-f,--format", export_args.format, "trt-cache, ort-table, ort-cache, aimet, qkern-json")
      ->required();
  export_cmd->add_option("-o,--output", export_out, "File to write")->required();
  export_args.add_to(export_cmd);
  export_cmd->footer(std::string("Defaults: --method minmax (so an ONNX Runtime table holds the observed range); "
                                 "--tool and --scheme follow the format (trt-cache: tensorrt symmetric; ort-table "
                                 "and ort-cache: onnxruntime affine; aimet, qkern-json: qkern symmetric).\n"
                                 "Examples:\n"
                                 "  qkern export model.qkstate -f trt-cache --method entropy -o model.cache\n"
                                 "  qkern export model.qkstate -f ort-table -o calibration.json\n"
                                 "  qkern export model.qkstate -f qkern-json --per-channel -o params.json") +
                     kExitCodes);

  // stats
  std::string stats_in;
  FitArgs stats_args;
  bool stats_json = false;
  CLI::App* stats_cmd =
      app.add_subcommand("stats", "Per-layer statistics, and every fitting method's range and SQNR side by side");
  stats_cmd->add_option("state", stats_in, "State file")->required();
  stats_args.add_to(stats_cmd, false);
  stats_cmd->add_flag("--json", stats_json, "JSON instead of the tables");
  stats_cmd->footer(std::string("SQNR is estimated from each layer's histogram (values spread evenly in each bin).\n"
                                "Examples:\n  qkern stats model.qkstate\n  qkern stats model.qkstate --dtype int4 "
                                "--scheme affine --json") +
                    kExitCodes);

  // quantize / dequantize
  std::string q_in, q_params, q_out, q_layer;
  CLI::App* q_cmd = app.add_subcommand("quantize", "Quantize tensor files with parameters from a qkern JSON file");
  q_cmd->add_option("input", q_in, "Tensor file (.npy, .npz, .safetensors)")->required();
  q_cmd->add_option("-p,--params", q_params, "qkern JSON parameters (export --format qkern-json)")->required();
  q_cmd->add_option("-o,--output", q_out, "Output tensor file; its extension picks the format")->required();
  q_cmd->add_option("-l,--layer", q_layer, "Use this layer's parameters for every tensor of the file");
  q_cmd->footer(std::string("Each tensor is quantized with the parameters of the layer of the same name (per "
                            "channel along the layer's axis). Codes are written as int8/uint8/int16/uint16 (int4 "
                            "codes one per byte).\nExample:\n  qkern quantize acts.npz -p params.json -o codes.npz") +
                kExitCodes);
  std::string d_in, d_params, d_out, d_layer;
  CLI::App* d_cmd = app.add_subcommand("dequantize", "Dequantize code tensors back to float32");
  d_cmd->add_option("input", d_in, "Tensor file of integer codes")->required();
  d_cmd->add_option("-p,--params", d_params, "qkern JSON parameters")->required();
  d_cmd->add_option("-o,--output", d_out, "Output tensor file (float32)")->required();
  d_cmd->add_option("-l,--layer", d_layer, "Use this layer's parameters for every tensor of the file");
  d_cmd->footer(std::string("Example:\n  qkern dequantize codes.npz -p params.json -o restored.npz") + kExitCodes);

  // run
  CollectArgs run_collect;
  FitArgs run_fit;
  std::string run_out = "qkern-out";
  CLI::App* run_cmd = app.add_subcommand(
      "run", "The main job: collect a dump, fit, print the per-layer table and write every export to a folder");
  run_cmd->add_option("inputs", run_collect.inputs, "Tensor files or directories")->required();
  run_cmd->add_option("-o,--output-dir", run_out, "Folder for the state and the exports")->capture_default_str();
  run_collect.add_to(run_cmd, "--channel-axis");
  run_fit.add_to(run_cmd);
  run_cmd->footer(std::string("Writes state.qkstate, table.txt and one file per export format (trt.cache, "
                              "calibration.json, calibration.cache, aimet_encodings.json, qkern.json).\n"
                              "Example:\n  qkern run data/digits/bn/calib -o digits-calib --method entropy") +
                  kExitCodes);

  // doctor (tools/qkern/cmd_doctor.cpp)
  DoctorArgs doctor_args;
  CLI::App* doctor_cmd = add_doctor_command(app, doctor_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "qkern: " << e.what() << "\nRun 'qkern --help' or 'qkern <command> --help' for usage.\n";
    return kExitUsage;
  }

  try {
    if (collect_cmd->parsed()) return cmd_collect(collect_args, collect_out);
    if (merge_cmd->parsed()) return cmd_merge(merge_in, merge_out);
    if (fit_cmd->parsed()) return cmd_fit(fit_in, fit_args, fit_json_flag, fit_out);
    if (export_cmd->parsed()) return cmd_export(export_in, export_args, export_out);
    if (stats_cmd->parsed()) return cmd_stats(stats_in, stats_args, stats_json);
    if (q_cmd->parsed()) return cmd_quantize(q_in, q_params, q_out, q_layer, false);
    if (d_cmd->parsed()) return cmd_quantize(d_in, d_params, d_out, d_layer, true);
    if (run_cmd->parsed()) return cmd_run(run_collect, run_fit, run_out);
    if (doctor_cmd->parsed()) return cmd_doctor(doctor_args);
  } catch (const InvalidArgument& e) {
    std::cerr << e.what() << "\n";
    return kExitUsage;
  } catch (const DataError& e) {
    std::cerr << e.what() << "\n";
    return kExitData;
  } catch (const std::exception& e) {
    std::cerr << "qkern: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace qkern::tool
