// SPDX-License-Identifier: LGPL-2.1-or-later
#include "range_backend.h"

#include <gst/gst.h>

#include "common/gref.h"
#include "fd_backend.h"
#include "file_backend.h"
#include "s3_backend.h"

namespace tws {

bool range_backend_supports_scheme(const char* scheme) {
  return scheme &&
         (g_ascii_strcasecmp(scheme, "file") == 0 || g_ascii_strcasecmp(scheme, "s3") == 0 ||
          g_ascii_strcasecmp(scheme, "rangefd") == 0 || g_ascii_strcasecmp(scheme, "http") == 0 ||
          g_ascii_strcasecmp(scheme, "https") == 0);
}

std::unique_ptr<RangeBackend> make_range_backend(const std::string& location, BackendError* error,
                                                 const RangeBackendOptions& options) {
  if (location.empty()) {
    error->set(BackendErrorCode::kNotFound, "No location given");
    return nullptr;
  }
  // A path never has a valid URI scheme before "://" unless it is meant as a URI.
  GUnique<gchar> scheme(gst_uri_get_protocol(location.c_str()));
  if (!scheme || location.find("://") == std::string::npos)
    return std::make_unique<FileBackend>(location, location);

  if (g_ascii_strcasecmp(scheme.get(), "file") == 0) {
    GError* raw = nullptr;
    GUnique<gchar> path(g_filename_from_uri(location.c_str(), nullptr, &raw));
    GUnique<GError> err(raw);
    if (!path) {
      error->set(BackendErrorCode::kNotFound, "Invalid file URI: " + location,
                 err ? err->message : "");
      return nullptr;
    }
    return std::make_unique<FileBackend>(path.get(), location);
  }
  if (g_ascii_strcasecmp(scheme.get(), "s3") == 0) return make_s3_backend(location, options, error);
  if (g_ascii_strcasecmp(scheme.get(), "rangefd") == 0) return make_fd_backend(location, error);
  if (g_ascii_strcasecmp(scheme.get(), "http") == 0 ||
      g_ascii_strcasecmp(scheme.get(), "https") == 0)
    return std::make_unique<HttpBackend>(location, options);
  error->set(BackendErrorCode::kUnsupported,
             std::string("Unsupported location scheme \"") + scheme.get() + "\": " + location);
  return nullptr;
}

}  // namespace tws
