// SPDX-License-Identifier: LGPL-2.1-or-later
#include "common/s3/s3_client.h"

#include <libsoup/soup.h>

#include <ctime>
#include <functional>
#include <map>

#include "common/gref.h"

namespace tws::s3 {

struct Client::Response {
  GRef<SoupMessage> msg;
  guint status = 0;
  std::string body;           // the whole body; empty when `stream` was asked for
  GRef<GInputStream> stream;  // a 2xx body, still to read (send_with_retries' stream)
};

namespace {

SoupSession* thread_session(unsigned timeout_s) {
  // One session per thread: libsoup's sync API runs on the calling thread, and a session
  // is used by one thread only. Connections are kept alive for the next request. A
  // connection keeps the timeout it was made with, so each timeout has its own session.
  thread_local std::map<unsigned, GRef<SoupSession>> sessions;
  GRef<SoupSession>& session = sessions[timeout_s];
  if (!session)
    session = adopt_ref(
        soup_session_new_with_options("timeout", timeout_s, "idle-timeout", 60u, nullptr));
  return session.get();
}

std::string xml_unescape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string::npos) {
      out.push_back('&');
      continue;
    }
    std::string ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp")
      out.push_back('&');
    else if (ent == "lt")
      out.push_back('<');
    else if (ent == "gt")
      out.push_back('>');
    else if (ent == "quot")
      out.push_back('"');
    else if (ent == "apos")
      out.push_back('\'');
    else if (!ent.empty() && ent[0] == '#') {
      gunichar c = (ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X'))
                       ? gunichar(g_ascii_strtoull(ent.c_str() + 2, nullptr, 16))
                       : gunichar(g_ascii_strtoull(ent.c_str() + 1, nullptr, 10));
      char buf[8];
      int n = g_unichar_to_utf8(c, buf);
      out.append(buf, size_t(n));
    } else {
      out.append(s, i, semi - i + 1);
    }
    i = semi;
  }
  return out;
}

bool sleep_cancellable(unsigned ms, GCancellable* cancel) {
  for (unsigned waited = 0; waited < ms; waited += 20) {
    if (cancel && g_cancellable_is_cancelled(cancel)) return false;
    g_usleep(20 * 1000);
  }
  return !(cancel && g_cancellable_is_cancelled(cancel));
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

namespace {
std::vector<std::string> raw_elements(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string::npos) {
    pos += open.size();
    size_t end = xml.find(close, pos);
    if (end == std::string::npos) break;
    out.push_back(xml.substr(pos, end - pos));
    pos = end + close.size();
  }
  return out;
}
}  // namespace

std::vector<std::string> xml_elements(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out = raw_elements(xml, tag);
  for (std::string& s : out) s = xml_unescape(s);
  return out;
}

// How send_with_retries tries: max_tries in all, backoff_ms before the second (doubled
// after each), the session's timeout, the User-Agent; with `stream` the 2xx body is left to
// read from Response::stream.
struct SendOptions {
  int max_tries;
  unsigned backoff_ms;
  unsigned timeout_s;
  std::string user_agent;
  bool stream;
};

namespace {

// One try: the whole body into response->body, or with `stream` a 2xx body left in
// response->stream to read (an error's body is read whole: it carries the store's Code).
GBytes* send_once(SoupMessage* msg, unsigned timeout_s, bool stream, GCancellable* cancel,
                  Client::Response* response, GError** err) {
  if (!stream) return soup_session_send_and_read(thread_session(timeout_s), msg, cancel, err);
  GRef<GInputStream> in = adopt_ref(soup_session_send(thread_session(timeout_s), msg, cancel, err));
  if (!in) return nullptr;
  const guint status = soup_message_get_status(msg);
  if (status >= 200 && status < 300) {
    response->stream = in;
    return g_bytes_new(nullptr, 0);
  }
  GOutputStream* sink = g_memory_output_stream_new_resizable();
  g_output_stream_splice(sink, in.get(),
                         GOutputStreamSpliceFlags(G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE |
                                                  G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET),
                         cancel, nullptr);
  GBytes* body = g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(sink));
  g_object_unref(sink);
  return body;
}

}  // namespace

Result send_with_retries(const std::function<GRef<SoupMessage>()>& make, const std::string& what,
                         const SendOptions& options, GCancellable* cancel,
                         Client::Response* response, Error* error) {
  unsigned backoff = options.backoff_ms;
  const int max_tries = options.max_tries;
  for (int attempt = 1;; ++attempt) {
    if (cancel && g_cancellable_is_cancelled(cancel)) {
      *error = {Result::kCancelled, 0, "Cancelled", what + ": cancelled"};
      return error->result;
    }
    GRef<SoupMessage> msg = make();
    if (!msg) {
      *error = {Result::kError, 0, "InvalidRequest", what + ": invalid URL"};
      return error->result;
    }
    if (!options.user_agent.empty())
      soup_message_headers_replace(soup_message_get_request_headers(msg.get()), "User-Agent",
                                   options.user_agent.c_str());
    GError* raw = nullptr;
    GUnique<GBytes> reply(
        send_once(msg.get(), options.timeout_s, options.stream, cancel, response, &raw));
    GUnique<GError> err(raw);
    bool retry = false;
    if (!reply) {
      if (g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        *error = {Result::kCancelled, 0, "Cancelled", what + ": cancelled"};
        return error->result;
      }
      *error = {Result::kUnavailable, 0, "Unreachable",
                what + ": " + one_line(err ? err->message : "connection failed")};
      retry = true;
    } else {
      guint status = soup_message_get_status(msg.get());
      gsize n = 0;
      const char* data = static_cast<const char*>(g_bytes_get_data(reply.get(), &n));
      response->msg = msg;
      response->status = status;
      response->body.assign(data ? data : "", n);
      if (status >= 200 && status < 300) return Result::kOk;
      auto codes = xml_elements(response->body, "Code");
      auto messages = xml_elements(response->body, "Message");
      const char* reason = soup_message_get_reason_phrase(msg.get());
      std::string code = !codes.empty()  ? codes[0]
                         : status == 404 ? "NotFound"
                         : status == 403 ? "Forbidden"
                                         : (reason && *reason ? reason : "Error");
      std::string text = what + ": " + std::to_string(status) + " " + code;
      if (!messages.empty()) text += ": " + one_line(messages[0]);
      Result r = status == 404                    ? Result::kNotFound
                 : status == 401 || status == 403 ? Result::kDenied
                                                  : Result::kError;
      *error = {r, int(status), code, text};
      retry = status >= 500 || status == 429;
      if (!retry) return r;
    }
    if (attempt >= max_tries) return error->result;
    g_debug("%s (try %d of %d), retrying in %u ms", error->message.c_str(), attempt, max_tries,
            backoff);
    if (!sleep_cancellable(backoff, cancel)) {
      *error = {Result::kCancelled, 0, "Cancelled", what + ": cancelled"};
      return error->result;
    }
    backoff *= 2;
  }
}

Client::Client(Target target) : target_(std::move(target)) {
  if (target_.region.empty()) target_.region = "us-east-1";
  GUri* uri = g_uri_parse(target_.endpoint.c_str(), G_URI_FLAGS_ENCODED, nullptr);
  if (uri) {
    scheme_ = g_uri_get_scheme(uri) ? g_uri_get_scheme(uri) : "http";
    host_ = g_uri_get_host(uri) ? g_uri_get_host(uri) : "";
    port_ = g_uri_get_port(uri);
    base_path_ = g_uri_get_path(uri) ? g_uri_get_path(uri) : "";
    while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
    g_uri_unref(uri);
  }
}

Result Client::request(const char* method, const std::string& key, const Params& query,
                       const Params& headers, const std::string* body, Response* response,
                       Error* error, GCancellable* cancel) const {
  std::string host = host_;
  std::string path = base_path_;
  if (target_.virtual_hosted) {
    host = target_.bucket + "." + host_;
    path += "/" + key;
  } else {
    path += "/" + target_.bucket;
    if (!key.empty() || query.empty()) path += "/" + key;
  }
  std::string host_header = host;
  if (port_ > 0 && !((scheme_ == "http" && port_ == 80) || (scheme_ == "https" && port_ == 443)))
    host_header += ":" + std::to_string(port_);
  const std::string cq = canonical_query(query);
  const std::string url =
      scheme_ + "://" + host_header + uri_encode(path, false) + (cq.empty() ? "" : "?" + cq);
  const std::string payload_hash = body ? sha256_hex(*body) : kEmptySha256;
  const std::string what = std::string("S3 ") + method + " " + target_.bucket + "/" + key;

  if (host_.empty()) {
    *error = {Result::kError, 0, "InvalidEndpoint",
              what + ": invalid endpoint \"" + target_.endpoint + "\""};
    return error->result;
  }
  auto make = [&]() -> GRef<SoupMessage> {
    Params sign_headers = headers;
    sign_headers.emplace_back("host", host_header);
    Signed s = sign(SignInput{method, path, query, sign_headers, payload_hash}, target_.creds,
                    target_.region, amz_date(std::time(nullptr)));
    GRef<SoupMessage> msg = adopt_ref(soup_message_new(method, url.c_str()));
    if (!msg) return msg;
    SoupMessageHeaders* req = soup_message_get_request_headers(msg.get());
    for (const auto& [name, value] : s.headers)
      if (g_ascii_strcasecmp(name.c_str(), "host") != 0)
        soup_message_headers_replace(req, name.c_str(), value.c_str());
    if (body) {
      GUnique<GBytes> bytes(g_bytes_new(body->data(), body->size()));
      soup_message_set_request_body_from_bytes(msg.get(), "application/octet-stream", bytes.get());
    }
    return msg;
  };
  const SendOptions send{max_tries, backoff_ms, timeout_s, user_agent, false};
  return send_with_retries(make, what, send, cancel, response, error);
}

namespace {

void fill_head(const Client::Response& r, HeadInfo* info) {
  SoupMessageHeaders* h = soup_message_get_response_headers(r.msg.get());
  info->size = uint64_t(soup_message_headers_get_content_length(h));
  const char* etag = soup_message_headers_get_one(h, "ETag");
  const char* lm = soup_message_headers_get_one(h, "Last-Modified");
  info->etag = etag ? etag : "";
  info->last_modified = lm ? lm : "";
}

std::string range_header(uint64_t offset, uint64_t length) {
  return "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
}

// The bytes of a ranged GET: 206 the part, 200 (range ignored) sliced, 416 past the end.
Result range_result(Result res, Client::Response& r, uint64_t offset, uint64_t length,
                    std::string* data, Error* error) {
  if (res != Result::kOk) {
    if (error->http_status == 416) {
      *error = {};
      return Result::kOk;
    }
    return res;
  }
  if (r.status == 206) {
    *data = std::move(r.body);
    if (data->size() > length) data->resize(length);
  } else if (offset < r.body.size()) {
    *data = r.body.substr(offset, length);
  }
  return Result::kOk;
}

GRef<SoupMessage> plain_message(const char* method, const std::string& url,
                                const std::string& range) {
  GRef<SoupMessage> msg = adopt_ref(soup_message_new(method, url.c_str()));
  if (msg && !range.empty())
    soup_message_headers_replace(soup_message_get_request_headers(msg.get()), "Range",
                                 range.c_str());
  return msg;
}

}  // namespace

Result Client::head(const std::string& key, HeadInfo* info, Error* error,
                    GCancellable* cancel) const {
  Response r;
  Result res = request("HEAD", key, {}, {}, nullptr, &r, error, cancel);
  if (res == Result::kOk) fill_head(r, info);
  return res;
}

Result Client::get(const std::string& key, std::string* data, Error* error,
                   GCancellable* cancel) const {
  Response r;
  Result res = request("GET", key, {}, {}, nullptr, &r, error, cancel);
  if (res == Result::kOk) *data = std::move(r.body);
  return res;
}

Result Client::get_range(const std::string& key, uint64_t offset, uint64_t length,
                         std::string* data, Error* error, GCancellable* cancel) const {
  data->clear();
  if (length == 0) return Result::kOk;
  Response r;
  Result res = request("GET", key, {}, {{"Range", range_header(offset, length)}}, nullptr, &r,
                       error, cancel);
  return range_result(res, r, offset, length, data, error);
}

SendOptions http_send_options(const HttpOptions& options, bool stream) {
  return {int(options.retries) + 1, 200, options.timeout_s, options.user_agent, stream};
}

Result http_head(const std::string& url, const HttpOptions& options, HeadInfo* info, Error* error,
                 GCancellable* cancel) {
  Client::Response r;
  Result res = send_with_retries([&] { return plain_message("HEAD", url, ""); }, "HEAD " + url,
                                 http_send_options(options, false), cancel, &r, error);
  if (res != Result::kOk) return res;
  fill_head(r, info);
  const char* ranges =
      soup_message_headers_get_one(soup_message_get_response_headers(r.msg.get()), "Accept-Ranges");
  info->accept_ranges = ranges && g_ascii_strcasecmp(ranges, "bytes") == 0;
  return res;
}

Result http_open(const std::string& url, const HttpOptions& options, uint64_t offset,
                 uint64_t length, HttpBody* body, Error* error, GCancellable* cancel) {
  const std::string range = "bytes=" + std::to_string(offset) + "-" +
                            (length ? std::to_string(offset + length - 1) : std::string());
  Client::Response r;
  Result res = send_with_retries([&] { return plain_message("GET", url, range); }, "GET " + url,
                                 http_send_options(options, true), cancel, &r, error);
  if (res != Result::kOk) return res;
  body->msg = r.msg;
  body->stream = r.stream;
  body->partial = r.status == 206;
  body->position = body->partial ? offset : 0;
  return res;
}

int64_t http_read(HttpBody* body, uint64_t length, uint8_t* dest, Error* error,
                  GCancellable* cancel) {
  uint8_t scratch[64 * 1024];
  uint64_t done = 0;
  while (done < length) {
    uint8_t* to = dest ? dest + done : scratch;
    const gsize want =
        gsize(dest ? length - done : std::min<uint64_t>(length - done, sizeof scratch));
    GError* raw = nullptr;
    const gssize n = g_input_stream_read(body->stream.get(), to, want, cancel, &raw);
    GUnique<GError> err(raw);
    if (n < 0) {
      const bool cancelled = g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED);
      GUnique<gchar> url(g_uri_to_string(soup_message_get_uri(body->msg.get())));
      *error = {
          cancelled ? Result::kCancelled : Result::kUnavailable, 0,
          cancelled ? "Cancelled" : "ReadFailed",
          std::string("GET ") + url.get() + ": " + one_line(err ? err->message : "read failed")};
      return -1;
    }
    if (n == 0) break;
    done += uint64_t(n);
    body->position += uint64_t(n);
  }
  return int64_t(done);
}

Result Client::put(const std::string& key, const std::string& data, Error* error,
                   GCancellable* cancel) const {
  Response r;
  return request("PUT", key, {}, {}, &data, &r, error, cancel);
}

Result Client::remove(const std::string& key, Error* error, GCancellable* cancel) const {
  Response r;
  return request("DELETE", key, {}, {}, nullptr, &r, error, cancel);
}

Result Client::list(const std::string& prefix, std::vector<std::string>* keys, Error* error,
                    GCancellable* cancel) const {
  keys->clear();
  std::string token;
  for (;;) {
    Params query{{"list-type", "2"}, {"prefix", prefix}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    Response r;
    Result res = request("GET", "", query, {}, nullptr, &r, error, cancel);
    if (res != Result::kOk) return res;
    for (const std::string& contents : raw_elements(r.body, "Contents"))
      for (std::string& k : xml_elements(contents, "Key")) keys->push_back(std::move(k));
    auto truncated = xml_elements(r.body, "IsTruncated");
    auto next = xml_elements(r.body, "NextContinuationToken");
    if (truncated.empty() || truncated[0] != "true" || next.empty() || next[0].empty()) break;
    token = next[0];
  }
  return Result::kOk;
}

}  // namespace tws::s3
