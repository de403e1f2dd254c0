// SPDX-License-Identifier: LGPL-2.1-or-later
// A failure of the media layer as a value: the GError domain and code of a GStreamer ERROR
// message, its debug text, and the HTTP status a source's server answered (the
// "http-status-code" of the message's details, as rangesrc and souphttpsrc post it), so that
// the service decides its answer from what happened rather than from the message's words.
#pragma once

#include <gst/gst.h>

#include <string>

namespace tws {

struct MediaError {
  GQuark domain = 0;      // GST_RESOURCE_ERROR, GST_STREAM_ERROR, ...; 0: a reason of tws's own
  int code = 0;           // in `domain` (GstResourceError, GstStreamError, ...)
  std::string message;    // one line, "element: message" for a bus message
  std::string debug;      // the element's debug text (for logs), may be empty
  guint http_status = 0;  // what the source's server answered, 0 none

  // The error (or warning) of a bus message.
  static MediaError from_message(GstMessage* message);
  // A GError as it came (the discoverer's), its message on one line.
  static MediaError from_gerror(const GError* error);
  // A reason of tws's own (a timeout, a check), no domain.
  static MediaError reason(std::string message);
  // A GST_RESOURCE_ERROR of the source (one this process saw itself, opening it).
  static MediaError resource(GstResourceError code, std::string message, guint http_status = 0);

  bool is(GQuark d, int c) const { return domain == d && code == c; }
  // The source is missing (a NOT_FOUND resource error, or 404 from its server).
  bool source_not_found() const;
  // The source's server refused (401, 403).
  bool source_denied() const;
  // The source's server could not answer (5xx or 429 after rangesrc's retries).
  bool source_unavailable() const;
};

// The domain by name across processes (worker protocol): "" for none.
std::string media_error_domain_name(GQuark domain);
GQuark media_error_domain(const std::string& name);

}  // namespace tws
