// SPDX-License-Identifier: LGPL-2.1-or-later
// One segment being transcoded, shared by every client that asked for it (single flight).
// It keeps the bytes produced so far, so a client that joins late gets them first and then
// the rest as they come. Lives on the server's main context only (no locks).
#pragma once

#include <glib.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "common/gref.h"
#include "service/core/errors.h"

namespace tws {

// A waiting client (the HTTP response of one request).
class FlightClient {
 public:
  virtual ~FlightClient() = default;
  virtual void on_data(GBytes* chunk) = 0;  // the first call comes before any other byte
  virtual void on_complete() = 0;           // the segment closed, checked and was published
  // The transcode failed. started: bytes were already sent (the response must be cut).
  virtual void on_failed(const Failure& failure, bool started) = 0;
};

class Flight {
 public:
  Flight() = default;
  Flight(const Flight&) = delete;
  Flight& operator=(const Flight&) = delete;

  // Its states, one field (the job that makes it, while one does):
  //   queued              made, a queue item asks for it, no job makes it yet
  //     | start(job)
  //   running{job}        the job makes it; its bytes go to the clients
  //     | restart()       the job stops before it: back to queued (another job takes over)
  //   complete() / fail() end a flight in either state; it is then dropped.
  void start(uint64_t job) { job_ = job; }
  bool running() const { return job_.has_value(); }
  std::optional<uint64_t> job() const { return job_; }
  bool made_by(uint64_t job) const { return job_ == job; }

  // Replays the bytes so far to the client, then keeps it informed.
  void add_client(FlightClient* client);
  void remove_client(FlightClient* client);
  size_t clients() const { return clients_.size(); }
  bool started() const { return bytes_ > 0; }
  uint64_t bytes() const { return bytes_; }

  void append(GUnique<GBytes> chunk);
  // The end: every client is told and dropped; the flight can be destroyed afterwards.
  void complete();
  void fail(const Failure& failure);
  // The job that made it stopped before it (another job takes over): bytes are dropped; a
  // client that already got some is cut, the others wait on.
  void restart(const Failure& failure);

 private:
  std::vector<GUnique<GBytes>> chunks_;
  uint64_t bytes_ = 0;
  std::vector<FlightClient*> clients_;
  std::optional<uint64_t> job_;  // running: the job that makes it
};

}  // namespace tws
