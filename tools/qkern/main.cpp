// qkern tool — SPDX-License-Identifier: Apache-2.0
// The `qkern` command (docs/tool.md).
#include "commands.hpp"

int main(int argc, char** argv) { return qkern::tool::run_cli(argc, argv); }
