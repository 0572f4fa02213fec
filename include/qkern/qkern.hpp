// qkern — SPDX-License-Identifier: Apache-2.0
//
// qkern.hpp: umbrella header, includes every public header.
#pragma once

#include "qkern/version.hpp"
#include "qkern/calib/fit.hpp"
#include "qkern/calib/percentile.hpp"
#include "qkern/calib/select.hpp"
#include "qkern/calib/weight_search.hpp"
#include "qkern/core/choose_params.hpp"
#include "qkern/core/dtype.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/params.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/int4_packing.hpp"
#include "qkern/minmax.hpp"
#include "qkern/quantize.hpp"
#include "qkern/reference/minmax.hpp"
#include "qkern/reference/quantize.hpp"
#include "qkern/reference/select.hpp"
