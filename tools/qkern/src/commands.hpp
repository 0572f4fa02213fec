// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// commands.hpp: the `qkern` command line (docs/tool.md). run_cli returns the process exit code:
//   0 success, 1 usage error (bad option or argument), 2 bad input data or file (the message names
//   the file and, where there is one, the layer), 3 internal error.
#pragma once

namespace qkern::tool {

enum ExitCode : int { kExitOk = 0, kExitUsage = 1, kExitData = 2, kExitInternal = 3 };

int run_cli(int argc, const char* const* argv);

}  // namespace qkern::tool
