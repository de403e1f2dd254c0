// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playback/segment_stream.h"

#include "service/core/metrics.h"
#include "service/http/access_log.h"
#include "service/http/http_errors.h"
#include "service/http/http_listener.h"

namespace tws {

void add_cors_headers(SoupServerMessage* msg) {
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace(h, "Access-Control-Expose-Headers", "Content-Length, Content-Range");
}

bool SegmentStream::start(SoupServerMessage* msg, Transcoder* transcoder,
                          const Transcoder::PlaylistPtr& playlist, int index, double hint) {
  auto* stream = new SegmentStream(msg, transcoder, playlist, index);
  soup_server_message_pause(msg);
  if (!transcoder->watch(playlist, index, stream, hint)) {
    soup_server_message_unpause(msg);
    delete stream;
    return false;
  }
  stream->finished_handler_ =
      g_signal_connect(msg, "finished", G_CALLBACK(+[](SoupServerMessage*, gpointer self) {
                         delete static_cast<SegmentStream*>(self);
                       }),
                       stream);
  return true;
}

SegmentStream::SegmentStream(SoupServerMessage* msg, Transcoder* transcoder,
                             const Transcoder::PlaylistPtr& playlist, int index)
    : msg_(add_ref(msg)), transcoder_(transcoder), playlist_(playlist), index_(index) {}

SegmentStream::~SegmentStream() {
  if (!done_) transcoder_->unwatch(playlist_, index_, this);
  if (finished_handler_) g_signal_handler_disconnect(msg_.get(), finished_handler_);
}

void SegmentStream::resume() {
  if (!message_finished(msg_.get())) soup_server_message_unpause(msg_.get());
}

void SegmentStream::send_headers() {
  if (headers_sent_) return;
  headers_sent_ = true;
  SoupServerMessage* msg = msg_.get();
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace(h, "Content-Type", "video/mp2t");
  soup_message_headers_replace(h, "Cache-Control",
                               transcoder_->draft(*playlist_, index_) ? kRevalidate : kImmutable);
  add_cors_headers(msg);
  soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
}

void SegmentStream::on_data(GBytes* chunk) {
  if (message_finished(msg_.get())) return;
  send_headers();
  soup_message_body_append_bytes(soup_server_message_get_response_body(msg_.get()), chunk);
  resume();
}

void SegmentStream::on_complete() {
  done_ = true;
  if (message_finished(msg_.get())) return;
  send_headers();
  soup_message_body_complete(soup_server_message_get_response_body(msg_.get()));
  Metrics::global().segment_served_from_transcode();
  resume();
}

void SegmentStream::on_failed(const Failure& failure, bool started) {
  done_ = true;
  if (message_finished(msg_.get())) return;
  if (started || headers_sent_) {
    // No final chunk: close the connection under libsoup, which then ends the message.
    HttpListener::cut(msg_.get());
    resume();
    return;
  }
  add_cors_headers(msg_.get());
  send_failure(msg_.get(), failure);
  resume();
}

}  // namespace tws
