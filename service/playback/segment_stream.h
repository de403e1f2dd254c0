// SPDX-License-Identifier: LGPL-2.1-or-later
// The HTTP response of a client waiting for a segment that is being transcoded: a chunked 200
// that grows as the flight produces bytes. Failure after the first byte cuts the connection
// (no final chunk, so no client or cache takes the segment as whole); before it, a JSON error.
#pragma once

#include <libsoup/soup.h>

#include "common/gref.h"
#include "service/transcode/segment_flight.h"
#include "service/transcode/transcoder.h"

namespace tws {

class SegmentStream : public FlightClient {
 public:
  // Pauses `msg` and watches segment `index` (with the request's seek hint, or -1); deletes
  // itself when the message finishes. False (nothing kept, msg untouched): the transcoder is
  // overloaded.
  static bool start(SoupServerMessage* msg, Transcoder* transcoder,
                    const Transcoder::PlaylistPtr& playlist, int index, double hint = -1);

  void on_data(GBytes* chunk) override;
  void on_complete() override;
  void on_failed(const Failure& failure, bool started) override;

 private:
  SegmentStream(SoupServerMessage* msg, Transcoder* transcoder,
                const Transcoder::PlaylistPtr& playlist, int index);
  ~SegmentStream() override;
  void send_headers();
  void resume();

  GRef<SoupServerMessage> msg_;
  Transcoder* transcoder_;
  Transcoder::PlaylistPtr playlist_;
  int index_;
  bool headers_sent_ = false;
  bool done_ = false;
  gulong finished_handler_ = 0;
};

// Headers every playback response carries (CORS).
void add_cors_headers(SoupServerMessage* msg);
constexpr const char* kImmutable = "public, max-age=31536000, immutable";
// A draft segment (made for a seek hint, remade soon): caches must ask again (its ETag changes).
constexpr const char* kRevalidate = "no-cache";

}  // namespace tws
