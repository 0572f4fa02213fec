// qkern — SPDX-License-Identifier: Apache-2.0
//
// io.hpp: tensor files: .npy / .npz / safetensors readers (memory-mapped, validated, zero-copy typed
// views, SIMD conversion to float32) and writers. See docs/tensor-files.md.
#pragma once

#include "qkern/io/json.hpp"
#include "qkern/io/mapped_file.hpp"
#include "qkern/io/npy.hpp"
#include "qkern/io/npz.hpp"
#include "qkern/io/safetensors.hpp"
#include "qkern/io/tensor_file.hpp"
#include "qkern/io/tensor_view.hpp"
#include "qkern/io/types.hpp"
