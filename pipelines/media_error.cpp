// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/media_error.h"

#include "common/gref.h"

namespace tws {
namespace {

std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n') c = ' ';
  return text;
}

}  // namespace

MediaError MediaError::from_message(GstMessage* message) {
  MediaError out;
  GError* e = nullptr;
  gchar* d = nullptr;
  const GstStructure* details = nullptr;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    gst_message_parse_error(message, &e, &d);
    gst_message_parse_error_details(message, &details);
  } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
    gst_message_parse_warning(message, &e, &d);
    gst_message_parse_warning_details(message, &details);
  }
  GUnique<GError> err(e);
  GUnique<gchar> debug(d);
  std::string text = GST_MESSAGE_SRC_NAME(message) ? GST_MESSAGE_SRC_NAME(message) : "pipeline";
  text += ": ";
  text += err ? err->message : "unknown error";
  out.message = one_line(std::move(text));
  if (err) {
    out.domain = err->domain;
    out.code = err->code;
  }
  if (debug) out.debug = one_line(debug.get());
  guint status = 0;
  if (details && gst_structure_get_uint(details, "http-status-code", &status))
    out.http_status = status;
  return out;
}

MediaError MediaError::from_gerror(const GError* error) {
  MediaError out;
  if (!error) return reason("unknown error");
  out.domain = error->domain;
  out.code = error->code;
  out.message = one_line(error->message ? error->message : "");
  return out;
}

MediaError MediaError::reason(std::string message) {
  MediaError out;
  out.message = std::move(message);
  return out;
}

MediaError MediaError::resource(GstResourceError code, std::string message, guint http_status) {
  MediaError out;
  out.domain = GST_RESOURCE_ERROR;
  out.code = code;
  out.message = std::move(message);
  out.http_status = http_status;
  return out;
}

bool MediaError::source_not_found() const {
  return is(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND) || http_status == 404;
}

bool MediaError::source_denied() const { return http_status == 401 || http_status == 403; }

bool MediaError::source_unavailable() const { return http_status >= 500 || http_status == 429; }

std::string media_error_domain_name(GQuark domain) {
  const char* name = domain ? g_quark_to_string(domain) : nullptr;
  return name ? name : "";
}

GQuark media_error_domain(const std::string& name) {
  return name.empty() ? 0 : g_quark_from_string(name.c_str());
}

}  // namespace tws
