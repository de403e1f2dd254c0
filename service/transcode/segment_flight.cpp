// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/transcode/segment_flight.h"

#include <algorithm>

namespace tws {

void Flight::add_client(FlightClient* client) {
  clients_.push_back(client);
  for (const auto& chunk : chunks_) client->on_data(chunk.get());
}

void Flight::remove_client(FlightClient* client) {
  clients_.erase(std::remove(clients_.begin(), clients_.end(), client), clients_.end());
}

void Flight::append(GUnique<GBytes> chunk) {
  if (g_bytes_get_size(chunk.get()) == 0) return;
  bytes_ += g_bytes_get_size(chunk.get());
  // A copy: a client's callback may remove clients.
  const std::vector<FlightClient*> clients = clients_;
  for (FlightClient* c : clients) c->on_data(chunk.get());
  chunks_.push_back(std::move(chunk));
}

void Flight::complete() {
  const std::vector<FlightClient*> clients = std::exchange(clients_, {});
  for (FlightClient* c : clients) c->on_complete();
}

void Flight::fail(const Failure& failure) {
  const bool was_started = started();
  const std::vector<FlightClient*> clients = std::exchange(clients_, {});
  for (FlightClient* c : clients) c->on_failed(failure, was_started);
}

void Flight::restart(const Failure& failure) {
  if (started()) {
    // The clients that got bytes cannot take new ones from the start: cut them.
    const std::vector<FlightClient*> clients = std::exchange(clients_, {});
    for (FlightClient* c : clients) c->on_failed(failure, true);
  }
  chunks_.clear();
  bytes_ = 0;
  job_.reset();
}

}  // namespace tws
