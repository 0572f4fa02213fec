// qkern — SPDX-License-Identifier: Apache-2.0
//
// qkern.hpp: umbrella header, includes every public header.
#pragma once

#include "qkern/version.hpp"
#include "qkern/analysis/calibration_checks.hpp"
#include "qkern/analysis/layer_checks.hpp"
#include "qkern/analysis/metrics.hpp"
#include "qkern/analysis/three_way.hpp"
#include "qkern/core/choose_params.hpp"
#include "qkern/core/dtype.hpp"
#include "qkern/core/error.hpp"
#include "qkern/core/layout.hpp"
#include "qkern/core/metric_sums.hpp"
#include "qkern/core/params.hpp"
#include "qkern/core/value_stats.hpp"
#include "qkern/fold/batchnorm.hpp"
#include "qkern/fold/forward_fold.hpp"
#include "qkern/fold/range_report.hpp"
#include "qkern/fold/weight_layout.hpp"
#include "qkern/int4_packing.hpp"
#include "qkern/minmax.hpp"
#include "qkern/quantize.hpp"
#include "qkern/reference/metrics.hpp"
#include "qkern/reference/minmax.hpp"
#include "qkern/reference/quantize.hpp"
