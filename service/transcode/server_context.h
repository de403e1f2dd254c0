// SPDX-License-Identifier: LGPL-2.1-or-later
// What the HTTP handlers of `tws serve` share: the config, the main context and the
// transcoder. One per process; handlers run on the main context.
#pragma once

#include <glib.h>

#include <functional>
#include <memory>

#include "service/core/config.h"
#include "service/transcode/transcoder.h"

namespace tws {

class HttpListener;

struct ServerContext {
  Config config;
  GMainContext* context = nullptr;
  std::unique_ptr<Transcoder> transcoder;
  HttpListener* listener = nullptr;  // the server's connections (owned by run_server)
};

}  // namespace tws
