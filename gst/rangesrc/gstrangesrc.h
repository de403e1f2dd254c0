// SPDX-License-Identifier: LGPL-2.1-or-later
// rangesrc: random-access source over local files (and, behind the same RangeBackend
// interface, S3 objects and HTTP resources), reading through the process-wide BlockCache.
#pragma once

#include <gst/base/gstbasesrc.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_RANGE_SRC (gst_range_src_get_type())
G_DECLARE_FINAL_TYPE(GstRangeSrc, gst_range_src, GST, RANGE_SRC, GstBaseSrc)

G_END_DECLS
