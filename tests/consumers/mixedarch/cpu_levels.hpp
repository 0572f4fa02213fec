// qkern — SPDX-License-Identifier: Apache-2.0
// cpu_levels.hpp: the x86-64 psABI levels the mixed-arch drivers (main.cpp, main_same.cpp) ask the
// CPU for before running a side built for them (__builtin_cpu_supports also checks the OS state).
#pragma once

inline bool cpu_runs_v3() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
}

inline bool cpu_runs_v4() {
  return cpu_runs_v3() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512vl");
}
