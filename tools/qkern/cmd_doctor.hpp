// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// cmd_doctor.hpp: the `qkern doctor` command (docs/doctor.md). The tool registers it with
// add_doctor_command() and runs cmd_doctor() when it was parsed; doctor_main() is the same command
// as a stand-alone CLI (used by the tests).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "doctor.hpp"

namespace qkern::tool {

struct DoctorArgs {
  doctor::Inputs inputs;
  doctor::Options options;
  std::string report;       ///< --report: the HTML file to write ("" = none)
  std::string state;        ///< --state: write the collected calibration state (as `qkern collect -o`)
  double sample_mb = 32.0;  ///< --sample-mb: per-layer budget of the sampled checks
  bool timing = false;      ///< --timing: collection time and throughput on stderr
};

/// Adds the `doctor` subcommand and its options to `app`, bound to `args`.
CLI::App* add_doctor_command(CLI::App& app, DoctorArgs& args);

/// Runs the checklist: prints the verdict lines and the per-layer table to stdout, writes the report.
/// Returns 0; throws qkern::DataError / InvalidArgument (the tool maps them to exit codes 2 / 1).
int cmd_doctor(const DoctorArgs& args);

/// `qkern doctor ...` as a program of its own: argv[1] is "doctor". Returns the exit code (0 ok,
/// 1 usage, 2 bad data, 3 internal error).
int doctor_main(int argc, const char* const* argv);

}  // namespace qkern::tool
